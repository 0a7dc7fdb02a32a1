import { ProviderError } from "../../provider-error.js";
import type { Transcript } from "../speech-to-text.js";

/**
 * Reads a transcription answer: `json` (`{text}`), `verbose_json` (`{text, language, duration,
 * segments}`), or plain text when the provider answered `text/plain` (some servers ignore
 * `response_format`). Anything else is a ProviderError naming what is wrong, never the text.
 */
export function parseTranscription(body: string, contentType: string): Transcript {
  if (/^text\/plain\b/i.test(contentType)) return { text: body.trim() };
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch (error) {
    throw new ProviderError(
      "The speech-to-text (ASR) provider did not answer JSON: check that OPENCONVAI_ASR_BASE_URL is an OpenAI-compatible API (…/v1).",
      false,
      { cause: error },
    );
  }
  const fields = answer !== null && typeof answer === "object" ? (answer as Record<string, unknown>) : {};
  if (typeof fields.text !== "string") {
    throw new ProviderError(
      "The speech-to-text (ASR) provider answered without a `text` field: check that OPENCONVAI_ASR_BASE_URL is an OpenAI-compatible transcription API.",
      false,
    );
  }
  const transcript: Transcript = { text: fields.text.trim() };
  if (typeof fields.language === "string" && fields.language !== "") transcript.language = fields.language;
  const duration = fields.duration;
  if (typeof duration === "number" && Number.isFinite(duration) && duration >= 0) {
    transcript.durationMs = Math.round(duration * 1000);
  }
  return transcript;
}

/** The language as transcription APIs take it: the primary subtag of a BCP-47 tag, lower case (`pt-BR` → `pt`). */
export function toIso639(language: string): string {
  return (language.trim().split(/[-_]/)[0] ?? "").toLowerCase();
}
