/**
 * Where the agent's audio is on the call timeline. Chunks are sent faster than real time and the
 * client queues them, so each chunk plays at `max(sent time, end of the previous chunk)`. On an
 * interruption this says how much audio was actually heard and which prefix of the reply text that
 * was: the `agent_response_correction` and the truncated transcript entry.
 *
 * Network latency and the client's buffer are not known to the server and are ignored: the
 * estimate is of what the client *started playing*, early by the one-way delay.
 */
import { type AudioAlignment, alignmentText } from "./alignment.js";

/** One sent chunk, placed on the timeline. */
export interface ScheduledChunk {
  /** Call time (ms) the chunk starts playing. */
  playsAtMs: number;
  /** Call time (ms) it has finished playing. */
  endsAtMs: number;
  durationMs: number;
  /** Its alignment, times relative to the chunk's start (empty when it had none). */
  alignment: AudioAlignment;
}

/** What an interruption cut off. */
export interface PlaybackCut {
  /** Audio (ms) of the reply played before the cut. */
  playedMs: number;
  /** Audio (ms) sent but not played. */
  unplayedMs: number;
  /** The reply text the audio spelled in full. */
  fullText: string;
  /** The prefix of it that was heard (see `heardPrefix`). */
  heardText: string;
}

/** The most chunks one reply may queue (about 3 h of 100 ms chunks); more is a caller bug. */
export const MAX_SCHEDULED_CHUNKS = 100_000;

/**
 * Returns the heard part of an aligned text: the characters that had started playing by
 * `playedMs` (chunk-relative times added to each chunk's offset), then, with `wholeWords`
 * (the default), without a word the cut fell inside, and trimmed. Whole words are what the user can
 * be said to have heard, and what reads well in a transcript.
 */
export function heardPrefix(chunks: readonly ScheduledChunk[], playedMs: number, wholeWords = true): string {
  let heard = "";
  let next = "";
  let offset = 0;
  outer: for (const chunk of chunks) {
    const { chars, char_start_times_ms: starts } = chunk.alignment;
    for (let i = 0; i < chars.length; i++) {
      if (offset + (starts[i] ?? 0) >= playedMs) {
        next = chars[i] ?? "";
        break outer;
      }
      heard += chars[i] ?? "";
    }
    offset += chunk.durationMs;
  }
  if (wholeWords && /[\p{L}\p{N}]$/u.test(heard) && /^[\p{L}\p{N}'’]/u.test(next)) {
    // Cut inside a word: the whole word goes, with what is attached to it ("[speech" of "[speech 1 s]").
    heard = heard.replace(/\S+$/u, "");
  }
  return heard.trim();
}

/** The timeline of one reply's audio (call `reset` for the next reply). */
export class PlaybackClock {
  private chunks: ScheduledChunk[] = [];
  private firstPlaysAtMs: number | undefined;
  private endMs = 0;

  /**
   * Places a chunk sent at `sentAtMs` lasting `durationMs`: it plays when it arrives or when the
   * queue before it has played, whichever is later.
   */
  schedule(sentAtMs: number, durationMs: number, alignment?: AudioAlignment): ScheduledChunk {
    if (this.chunks.length >= MAX_SCHEDULED_CHUNKS) {
      throw new RangeError("Too many audio chunks for one reply: send larger chunks or start a new reply.");
    }
    if (!(Number.isFinite(durationMs) && durationMs >= 0)) {
      throw new RangeError(
        `Chunk duration ${durationMs} ms is not valid: pass a finite number of ms, 0 or more.`,
      );
    }
    const playsAtMs = this.chunks.length === 0 ? sentAtMs : Math.max(sentAtMs, this.endMs);
    const chunk: ScheduledChunk = {
      playsAtMs,
      endsAtMs: playsAtMs + durationMs,
      durationMs,
      alignment: alignment ?? { chars: [], char_start_times_ms: [], char_durations_ms: [] },
    };
    this.firstPlaysAtMs ??= playsAtMs;
    this.chunks.push(chunk);
    this.endMs = chunk.endsAtMs;
    return chunk;
  }

  /** Call time (ms) the queued audio has all played (the start time when nothing is queued). */
  get endsAtMs(): number {
    return this.endMs;
  }

  /** Whether audio is playing at `nowMs`. */
  isPlayingAt(nowMs: number): boolean {
    return this.firstPlaysAtMs !== undefined && nowMs >= this.firstPlaysAtMs && nowMs < this.endMs;
  }

  /** Audio (ms) of the reply played by `nowMs`. Gaps between chunks (sent late) are not counted. */
  playedMsAt(nowMs: number): number {
    let played = 0;
    for (const chunk of this.chunks) {
      if (nowMs <= chunk.playsAtMs) break;
      played += Math.min(nowMs, chunk.endsAtMs) - chunk.playsAtMs;
    }
    return played;
  }

  /** Audio (ms) queued in all. */
  get totalMs(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.durationMs, 0);
  }

  /** What the user heard when they interrupted at `atMs`. The chunks stay for inspection until `reset`. */
  interrupt(atMs: number, wholeWords = true): PlaybackCut {
    const playedMs = this.playedMsAt(atMs);
    return {
      playedMs,
      unplayedMs: this.totalMs - playedMs,
      fullText: this.chunks.map((chunk) => alignmentText(chunk.alignment)).join(""),
      heardText: heardPrefix(this.chunks, playedMs, wholeWords),
    };
  }

  /** Forgets the chunks, for the next reply. */
  reset(): void {
    this.chunks = [];
    this.firstPlaysAtMs = undefined;
    this.endMs = 0;
  }
}
