import { ProviderError, ProviderTimeoutError } from "../../provider-error.js";

/** Why a finished (or abandoned) call's controller is aborted: to close the stream if still open. */
const STREAM_DISPOSED = new Error("The streamed call is over");

/**
 * The time limits of one streamed call, and the one AbortController that closes its HTTP
 * stream: when the caller's signal aborts, when nothing arrived within `firstChunkMs`, or when
 * the whole answer took longer than `totalMs`.
 */
export class StreamDeadlines {
  /** Aborts the request and its body. */
  readonly controller = new AbortController();
  private expired: "first_chunk" | "total" | undefined;
  private firstChunkTimer: NodeJS.Timeout | undefined;
  private readonly totalTimer: NodeJS.Timeout;
  private readonly firstChunkMs: number;
  private readonly onCallerAbort = () => this.controller.abort(this.caller.reason);

  constructor(
    private readonly caller: AbortSignal,
    firstChunkMs: number,
    private readonly totalMs: number,
  ) {
    this.firstChunkMs = Math.min(firstChunkMs, totalMs);
    this.firstChunkTimer = setTimeout(() => this.expire("first_chunk"), this.firstChunkMs);
    this.totalTimer = setTimeout(() => this.expire("total"), totalMs);
    if (caller.aborted) this.onCallerAbort();
    else caller.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  /** The signal the request runs under. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first chunk arrived: only the total limit applies from now on. */
  firstChunkArrived(): void {
    clearTimeout(this.firstChunkTimer);
    this.firstChunkTimer = undefined;
  }

  /**
   * What to throw for an error of the request or of reading its body: a ProviderTimeoutError
   * when a limit passed, the caller's abort reason when the caller aborted, else a transient
   * ProviderError saying `what` failed.
   */
  failure(error: unknown, what: string): unknown {
    if (this.expired === "first_chunk") {
      return new ProviderTimeoutError(`The LLM sent nothing within ${this.firstChunkMs} ms.`, {
        cause: error,
      });
    }
    if (this.expired === "total") {
      return new ProviderTimeoutError(`The LLM's answer took longer than ${this.totalMs} ms.`, {
        cause: error,
      });
    }
    if (this.caller.aborted) return this.caller.reason;
    // undici's errors carry the network error's code themselves.
    const failed = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
    const code = typeof failed?.code === "string" ? failed.code : failed?.cause?.code;
    const detail = typeof code === "string" ? code : (error as Error | undefined)?.message;
    return new ProviderError(`${what} (${detail ?? "unknown error"}).`, true, { cause: error });
  }

  /**
   * Stops the timers and forgets the caller's signal; unless the stream was read to its end
   * (`readToEnd`), also closes it if it is still open.
   */
  dispose(readToEnd = false): void {
    clearTimeout(this.firstChunkTimer);
    clearTimeout(this.totalTimer);
    this.caller.removeEventListener("abort", this.onCallerAbort);
    // With a reason of its own: abort() without one builds a DOMException (and its stack) each time.
    if (!readToEnd && !this.controller.signal.aborted) this.controller.abort(STREAM_DISPOSED);
  }

  private expire(which: "first_chunk" | "total"): void {
    this.expired ??= which;
    this.controller.abort();
  }
}
