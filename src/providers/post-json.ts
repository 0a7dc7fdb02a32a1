import { ProviderError } from "./provider-error.js";

/** Largest provider response body read, in bytes. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** POSTs JSON to a provider and returns the parsed JSON answer, or throws a ProviderError. */
export async function postJson(
  url: string,
  body: unknown,
  options: { apiKey: string | undefined; timeoutMs: number; what: string },
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw new ProviderError(
      `The ${options.what} provider could not be reached: ${(error as Error).message}`,
      true,
      {
        cause: error,
      },
    );
  }
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new ProviderError(
      `The ${options.what} provider answered more than ${MAX_RESPONSE_BYTES} bytes.`,
      false,
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ProviderError(`The ${options.what} provider's answer could not be read.`, true, {
      cause: error,
    });
  }
  if (!response.ok) {
    const transient = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new ProviderError(
      `The ${options.what} provider answered HTTP ${response.status}: ${text.slice(0, 300)}`,
      transient,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProviderError(`The ${options.what} provider did not answer JSON.`, false, { cause: error });
  }
}
