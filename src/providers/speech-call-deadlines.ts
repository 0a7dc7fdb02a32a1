import { ProviderError, ProviderTimeoutError } from "./provider-error.js";

/** Why a finished call's controller is aborted: to close its HTTP stream if still open. */
const CALL_DISPOSED = new Error("The speech provider call is over");

/** How a speech provider and its time settings are named in error messages. */
export interface SpeechCallNames {
  /** The provider, e.g. "speech-to-text (ASR)". */
  provider: string;
  /** The settings that hold the limits, e.g. `OPENCONVAI_ASR_TIMEOUT_MS`. */
  firstByteSetting: string;
  totalSetting: string;
}

/**
 * The time limits of one speech provider call, retries included, and the one AbortController
 * its HTTP requests run under: aborted when the caller's signal aborts, when nothing arrived
 * within `firstByteMs`, or when the whole call took longer than `totalMs`. (The LLM's
 * StreamDeadlines does the same for chat streams, with LLM wording.)
 */
export class SpeechCallDeadlines {
  /** Aborts the request (`streamPost`) and the reading of its body. */
  readonly controller = new AbortController();
  private expired: "first_byte" | "total" | undefined;
  private firstByteTimer: NodeJS.Timeout | undefined;
  private readonly totalTimer: NodeJS.Timeout;
  private readonly firstByteMs: number;
  private readonly onCallerAbort = () => this.controller.abort(this.caller?.reason);

  constructor(
    private readonly caller: AbortSignal | undefined,
    firstByteMs: number,
    private readonly totalMs: number,
    private readonly names: SpeechCallNames,
  ) {
    this.firstByteMs = Math.min(firstByteMs, totalMs);
    this.firstByteTimer = setTimeout(() => this.expire("first_byte"), this.firstByteMs);
    this.totalTimer = setTimeout(() => this.expire("total"), totalMs);
    if (caller?.aborted) this.onCallerAbort();
    else caller?.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  /** The signal the requests run under. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether a limit passed or the caller aborted: nothing more should be tried. */
  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** The first byte arrived: only the total limit applies from now on. */
  firstByteArrived(): void {
    clearTimeout(this.firstByteTimer);
    this.firstByteTimer = undefined;
  }

  /**
   * What to throw for an error of a request or of reading its body: a ProviderTimeoutError
   * when a limit passed, the caller's reason when the caller aborted, else a transient
   * ProviderError saying `what` failed and what to check.
   */
  failure(error: unknown, what: string): unknown {
    const { provider, firstByteSetting, totalSetting } = this.names;
    if (this.expired === "first_byte") {
      return new ProviderTimeoutError(
        `The ${provider} provider sent nothing within ${this.firstByteMs} ms: check that it is running and not overloaded, or raise ${firstByteSetting}.`,
        { cause: error },
      );
    }
    if (this.expired === "total") {
      return new ProviderTimeoutError(
        `The ${provider} provider's answer took longer than ${this.totalMs} ms: use a faster model or server, or raise ${totalSetting}.`,
        { cause: error },
      );
    }
    if (this.caller?.aborted) return this.caller.reason;
    return new ProviderError(`${what} (${describeError(error)}).`, true, { cause: error });
  }

  /** Waits `ms` before a retry; rejects as `failure` does when a limit passes or the caller aborts meanwhile. */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const signal = this.signal;
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.failure(signal.reason, `The ${this.names.provider} call was stopped`));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Stops the timers, forgets the caller's signal and closes the request if it is still open. */
  dispose(): void {
    clearTimeout(this.firstByteTimer);
    clearTimeout(this.totalTimer);
    this.caller?.removeEventListener("abort", this.onCallerAbort);
    if (!this.controller.signal.aborted) this.controller.abort(CALL_DISPOSED);
  }

  private expire(which: "first_byte" | "total"): void {
    this.expired ??= which;
    this.controller.abort();
  }
}

/**
 * A short name for a failed request's error that is safe to show: its code (or its cause's, e.g.
 * ECONNREFUSED), else its message when short and free of anything URL-like, else its class name.
 * Messages are not copied as such because some (fetch's, undici's) quote the URL, and a URL may
 * hold a user name, password or key.
 */
function describeError(error: unknown): string {
  if (typeof error !== "object" || error === null) return "unknown error";
  const { code, cause, message, name } = error as {
    code?: unknown;
    cause?: { code?: unknown };
    message?: unknown;
    name?: unknown;
  };
  if (typeof code === "string" && code !== "") return code;
  if (typeof cause?.code === "string" && cause.code !== "") return cause.code;
  if (typeof message === "string" && message !== "" && message.length <= 80 && !/[:@/?#=]/.test(message))
    return message;
  return typeof name === "string" && name !== "" ? name : "unknown error";
}
