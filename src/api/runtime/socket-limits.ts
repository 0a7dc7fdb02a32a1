/** The agent socket's per-session limits and what its logs may say about errors. */

import type { ClientEvent } from "../../runtime/client-frames.js";
import type { Clock } from "../../runtime/clock.js";

/**
 * Counts one session's frames over the last minute (a sliding window: at most `perMinute` in any
 * 60 seconds). It holds the times of the frames still in the window, so never more than the limit.
 */
export class MessageRate {
  private readonly times: number[] = [];
  private head = 0;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {}

  /** Counts a frame; false when it is one more than the limit allows. */
  admit(): boolean {
    const now = this.clock.now();
    while (this.head < this.times.length && (this.times[this.head] as number) <= now - 60_000) this.head += 1;
    if (this.times.length - this.head >= this.perMinute) return false;
    this.times.push(now);
    // Expired times are dropped now and then, so the array stays about the size of the window.
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return true;
  }
}

/** How many times real time a client may send audio, averaged over `AUDIO_RATE_WINDOW_SECS`. */
export const AUDIO_REAL_TIME_FACTOR = 2;

/** The window (seconds) over which a session's audio rate is averaged: a burst this long is allowed. */
export const AUDIO_RATE_WINDOW_SECS = 3;

/** The audio rate (bytes a second) assumed before a session's format is known: pcm_48000's. */
export const MAX_AUDIO_BYTES_PER_SECOND = 96_000;

/**
 * Caps the audio bytes one session sends: a token bucket that fills at `AUDIO_REAL_TIME_FACTOR`
 * times the format's real-time rate and holds `AUDIO_RATE_WINDOW_SECS` seconds of that, so a
 * client may catch up after a stall but never stream faster than twice real time for long.
 */
export class AudioRate {
  private tokens: number | undefined;
  private lastMs = 0;

  constructor(private readonly clock: Clock) {}

  /** Counts a chunk of `bytes` at a format of `bytesPerSecond`; false when it is over the cap. */
  admit(bytes: number, bytesPerSecond: number): boolean {
    const rate = bytesPerSecond * AUDIO_REAL_TIME_FACTOR;
    const capacity = rate * AUDIO_RATE_WINDOW_SECS;
    const now = this.clock.now();
    this.tokens =
      this.tokens === undefined
        ? capacity
        : Math.min(capacity, this.tokens + ((now - this.lastMs) * rate) / 1000);
    this.lastMs = now;
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }
}

/** Frames that don't count against the message rate: keep-alive answers and audio. */
export function isUncounted(event: ClientEvent): boolean {
  return event.type === "pong" || event.type === "user_audio_chunk";
}

/**
 * Why the socket library refused a frame (its errors carry a `WS_ERR_…` code and close the socket
 * themselves: 1009 for a frame over MAX_FRAME_BYTES, 1002/1007 for broken framing); undefined for
 * a network error, which the close reports.
 */
export function frameErrorReason(error: Error, maxFrameBytes: number): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH")
    return `Message too large: a frame may be at most ${maxFrameBytes / (1024 * 1024)} MiB`;
  if (typeof code === "string" && code.startsWith("WS_ERR_")) return `Invalid frame: ${error.message}`;
  return undefined;
}

/** An error as logged above debug: its kind and message, never its cause (which may quote content). */
export function errorSummary(error: unknown): { type: string; message: string } {
  return error instanceof Error
    ? { type: error.name, message: error.message }
    : { type: typeof error, message: "non-error thrown" };
}
