import type { StreamedAnswer } from "./http/stream-post.js";
import { ProviderError } from "./provider-error.js";

/** Most bytes of an error answer read, for its message. */
const MAX_ERROR_BYTES = 64 * 1024;

/** Whether an HTTP status means the provider may answer another time (and a safe request may be sent again). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The provider's error message from at most 64 KiB of an error answer (see `errorMessageOf`); the
 * body is closed after. A body that breaks off gives the message of what arrived (possibly ""),
 * unless `brokenOff` is given: then what it makes of the read's error is thrown.
 */
export async function readErrorMessage(
  answer: StreamedAnswer,
  brokenOff?: (error: unknown) => unknown,
): Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const part of answer.body) {
      parts.push(part);
      size += part.byteLength;
      if (size >= MAX_ERROR_BYTES) break;
    }
  } catch (error) {
    if (brokenOff) throw brokenOff(error);
    // What arrived is enough for a message.
  } finally {
    answer.cancel();
  }
  return errorMessageOf(new TextDecoder().decode(Buffer.concat(parts).subarray(0, MAX_ERROR_BYTES)));
}

/**
 * A provider's error message from the text of an error: `{error: {message}}`, `{error: "…"}`,
 * `{detail: "…"}` (FastAPI servers) or the text itself, on one line, at most 300 characters.
 */
export function errorMessageOf(text: string): string {
  return extractMessage(text).replace(/\s+/g, " ").trim().slice(0, 300);
}

/** A ProviderError for an HTTP error answer, saying what to check for the usual statuses. */
export function httpError(
  provider: string,
  settingsPrefix: string,
  status: number,
  message: string,
): ProviderError {
  const hint =
    status === 401 || status === 403
      ? ` Check ${settingsPrefix}_API_KEY.`
      : status === 404
        ? ` Check ${settingsPrefix}_BASE_URL (it should end in /v1) and ${settingsPrefix}_MODEL.`
        : "";
  return new ProviderError(
    `The ${provider} provider answered HTTP ${status}: ${message || "(no message)"}.${hint}`,
    isTransientStatus(status),
  );
}

function extractMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; detail?: unknown } | null;
    const error = body?.error;
    if (typeof error === "string") return error;
    const nested = (error as { message?: unknown } | null | undefined)?.message;
    if (typeof nested === "string") return nested;
    if (typeof body?.detail === "string") return body.detail;
  } catch {
    // Not JSON: the text as it came.
  }
  return text;
}
