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

/** A provider call that ran out of time (nothing arrived soon enough, or the whole answer took too long). */
export class ProviderTimeoutError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = "ProviderTimeoutError";
  }
}
