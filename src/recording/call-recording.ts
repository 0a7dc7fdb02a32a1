/**
 * The recording of one call: two tracks, `user` and `agent`, of 16-bit PCM on one timeline that
 * starts at 0 ms (the call's start). Memory is bounded and compact: each track is a sparse list
 * of fixed one-second `Int16Array` segments, allocated only where audio lands, and nothing is
 * kept past `maxSeconds` (audio beyond the cap is dropped and counted in `droppedSamples`).
 *
 * Placement rules:
 * - `user`: a chunk goes where its call time says. Where it overlaps audio already on the user
 *   track, the newer chunk replaces the older samples (one microphone never plays twice at once,
 *   so summing would double the level). A caller whose arrival times jitter should compute
 *   `atMs` from the running sample count.
 * - `agent`: a chunk goes where it plays, but never before the end of the agent audio already
 *   scheduled: later chunks continue after earlier ones, so agent chunks never overlap.
 *   `cutAgent(atMs)` (an interruption) drops everything scheduled from `atMs` on.
 */

import { SEGMENT_SECONDS, TrackBuffer } from "./track-buffer.js";
import type { RecordingTracks } from "./track-segments.js";

/** The rate the recordings are kept at, in samples per second. */
export const RECORDING_SAMPLE_RATE = 16_000;

/** The default cap on a recording's length: 2 hours. */
export const DEFAULT_MAX_RECORDING_SECONDS = 2 * 3600;

/** The largest cap a recording accepts (4 hours: about 460 MB per track at 16 kHz). */
export const MAX_RECORDING_SECONDS = 4 * 3600;

/** The two tracks of a call. */
export type RecordingTrack = "user" | "agent";

/** Options for a `CallRecording`. */
export interface CallRecordingOptions {
  /** Samples per second (8000–48000); the recordings use `RECORDING_SAMPLE_RATE`. */
  sampleRate?: number;
  /** Audio past this many seconds from the call's start is dropped (default 2 hours). */
  maxSeconds?: number;
}

/** A bounded two-track recording of one call; see the module comment for the placement rules. */
export class CallRecording {
  /** Samples per second of both tracks. */
  readonly sampleRate: number;
  /** The cap, in samples: no track holds audio at or past this position. */
  readonly maxSamples: number;
  /** Samples that fell past the cap (or before 0 ms) and were not kept. */
  droppedSamples = 0;
  private readonly user: TrackBuffer;
  private readonly agent: TrackBuffer;
  /** Where the scheduled agent audio ends (the next agent chunk starts here at the earliest). */
  private agentEnd = 0;

  constructor(options: CallRecordingOptions = {}) {
    const sampleRate = options.sampleRate ?? RECORDING_SAMPLE_RATE;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48_000) {
      throw new RangeError(`sampleRate must be a whole number from 8000 to 48000; got ${sampleRate}`);
    }
    const maxSeconds = options.maxSeconds ?? DEFAULT_MAX_RECORDING_SECONDS;
    if (!(maxSeconds > 0 && maxSeconds <= MAX_RECORDING_SECONDS)) {
      throw new RangeError(
        `maxSeconds must be above 0 and at most ${MAX_RECORDING_SECONDS} (4 hours); got ${maxSeconds}`,
      );
    }
    this.sampleRate = sampleRate;
    this.maxSamples = Math.floor(maxSeconds * sampleRate);
    const segmentSamples = sampleRate * SEGMENT_SECONDS;
    this.user = new TrackBuffer(segmentSamples, this.maxSamples);
    this.agent = new TrackBuffer(segmentSamples, this.maxSamples);
  }

  /** Places the user's audio at its call time (ms since the call's start); overlaps replace. */
  addUser(atMs: number, samples: Int16Array): void {
    this.droppedSamples += this.user.write(this.position(atMs), samples);
  }

  /**
   * Places agent audio at the time it plays (ms since the call's start), or right after the
   * agent audio already scheduled if that ends later. Returns the ms where it was placed.
   */
  addAgent(atMs: number, samples: Int16Array): number {
    const start = Math.max(this.position(atMs), this.agentEnd);
    const dropped = this.agent.write(start, samples);
    this.droppedSamples += dropped;
    this.agentEnd = Math.min(this.maxSamples, Math.max(this.agentEnd, start + samples.length));
    return (start * 1000) / this.sampleRate;
  }

  /** An interruption: drops the agent audio scheduled from `atMs` on (earlier audio stays). */
  cutAgent(atMs: number): void {
    const at = Math.max(0, this.position(atMs));
    if (at >= this.agentEnd) return;
    this.agent.clearFrom(at);
    this.agentEnd = at;
  }

  /** The length of the recording: where the later of the two tracks ends, in ms. */
  get durationMs(): number {
    return (this.durationSamples * 1000) / this.sampleRate;
  }

  /** The length of the recording in samples. */
  get durationSamples(): number {
    return Math.max(this.user.end, this.agent.end);
  }

  /** Whether any user audio was kept. */
  get hasUser(): boolean {
    return this.user.end > 0;
  }

  /** Whether any agent audio is kept (after cuts). */
  get hasAgent(): boolean {
    return this.agent.end > 0;
  }

  /** The bytes of PCM held now (both tracks), for accounting. */
  get bytesHeld(): number {
    return this.user.bytesHeld + this.agent.bytesHeld;
  }

  /** Both tracks as plain data, by reference: valid until the recording changes. */
  viewTracks(): RecordingTracks {
    const user = this.user.view();
    const agent = this.agent.view();
    return { sampleRate: this.sampleRate, durationSamples: this.durationSamples, user, agent };
  }

  /**
   * Hands both tracks over (to be moved to another thread without a copy) and empties the
   * recording: it starts again from nothing, and `droppedSamples` is kept.
   */
  takeTracks(): RecordingTracks {
    const durationSamples = this.durationSamples;
    const user = this.user.take();
    const agent = this.agent.take();
    this.agentEnd = 0;
    return { sampleRate: this.sampleRate, durationSamples, user, agent };
  }

  /** A call time in ms as a sample position (rounded); refuses a time that is not a number. */
  private position(atMs: number): number {
    if (!Number.isFinite(atMs)) {
      throw new RangeError(`the time must be a finite number of ms since the call's start; got ${atMs}`);
    }
    return Math.round((atMs * this.sampleRate) / 1000);
  }
}
