/** A model provider call that failed; `transient` failures (network, 429, 5xx, timeouts) may be retried later. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ProviderError";
  }
}
