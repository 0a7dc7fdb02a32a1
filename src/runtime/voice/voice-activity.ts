/**
 * An energy-based voice activity detector: the documented alternative to a neural VAD, pure and
 * deterministic, so a session can send `vad_score` and take turns without a model.
 *
 * Algorithm, per frame of `frameMs` (20–32 ms; 32 ms is one browser `user_audio_chunk` at 16 kHz):
 * 1. The level is the frame's RMS in dBFS (0 dBFS = a full-scale square wave; digital silence is
 *    clamped to -100).
 * 2. An adaptive noise floor follows the quietest recent level: it falls quickly to a quieter frame
 *    (a fraction `floorFallRate` of the gap per frame) and rises slowly toward a louder one
 *    (at most `floorRiseDbPerSecond`), so steady background noise becomes the floor while the short
 *    gaps between words keep pulling it back down. It never goes below -90 dBFS. And it jumps up at
 *    once to the quietest level of the last `floorCatchUpMs` (1.5 s) when that is above it and the
 *    levels of that time stayed within 6 dB: a steady noise is its own minimum, while speech has
 *    gaps that keep that minimum low and a level that keeps changing.
 * 3. The score (this becomes `vad_score`, 0..1) is the product of two logistic curves: how far the
 *    level is above the floor compared with `marginDb`, and how far it is above the absolute
 *    `minSpeechDbfs`. A frame is voiced when its score is at least 0.5.
 * 4. Hysteresis: speech starts after `startMs` of consecutive voiced frames (the start is dated back
 *    to the first of them) and ends after `hangoverMs` of unvoiced frames (dated back to the end of
 *    the last voiced frame), so one click or one quiet syllable does not flip the state.
 *
 * Limits: it measures loudness, not voice. Any sound louder than the floor by the margin counts as
 * speech (music, a door, a cough, the agent's own voice coming back without echo cancellation);
 * speech no louder than the background is missed; a steady noise that starts suddenly counts as
 * speech for about `floorCatchUpMs` plus `hangoverMs` (the slow rise alone would take
 * (noise − floor − marginDb) ÷ `floorRiseDbPerSecond` seconds: 9 s for a −39 dBFS fan after a
 * −84 dBFS room); a sound that holds one level for `floorCatchUpMs` (a sung note, a test tone)
 * stops counting as speech then, just like a noise; and the floor is seeded from the first frame,
 * so a user who talks from the very first frame is heard only once a pause lets the floor fall. Browsers' echo cancellation and noise suppression help a great deal.
 */

/** The tuning of a `VoiceActivityDetector`; every field has a default. */
export interface VadOptions {
  /** Frame length in ms, 20–32 (default 32). */
  frameMs?: number;
  /** dB above the noise floor at which the score is 0.5 (default 10). */
  marginDb?: number;
  /** Absolute level (dBFS) at which the score is at most 0.5 whatever the floor (default -50). */
  minSpeechDbfs?: number;
  /** Voiced time needed before speech starts (default 64 ms). */
  startMs?: number;
  /** Unvoiced time after which speech ends (default 160 ms). */
  hangoverMs?: number;
  /** Fastest rise of the noise floor toward louder frames (default 4 dB per second). */
  floorRiseDbPerSecond?: number;
  /** Fraction of the gap the floor falls per quieter frame (default 0.3). */
  floorFallRate?: number;
  /** The floor jumps to the quietest level of this much recent time when louder (default 1500 ms). */
  floorCatchUpMs?: number;
}

/** One analysed frame on the call timeline. */
export interface VadFrame {
  /** Call time (ms) of the frame's first sample. */
  startMs: number;
  /** Call time (ms) just after the frame's last sample. */
  endMs: number;
  /** RMS level in dBFS (-100 for digital silence). */
  levelDbfs: number;
  /** The noise floor in dBFS after this frame. */
  noiseFloorDbfs: number;
  /** Speech probability 0..1, rounded to 3 decimals: the `vad_score`. */
  score: number;
  /** Whether this frame alone looks like speech (score ≥ 0.5). */
  voiced: boolean;
  /** The hysteresis state after this frame. */
  speaking: boolean;
  /** Set on the frame where speech was found to start or end, with the dated-back time. */
  change?: { kind: "start" | "end"; atMs: number };
}

const SILENCE_DBFS = -100;
const MIN_FLOOR_DBFS = -90;
const SLOPE_DB = 3;
/**
 * How much the frame levels of the catch-up window may differ for the floor to jump: a fan or a
 * hum varies by a dB or two from frame to frame, speech by far more (syllables, words, breaths).
 */
const STEADY_SPREAD_DB = 6;
/** The largest chunk `push` takes at once: 10 s at 48 kHz. */
export const MAX_VAD_CHUNK_SAMPLES = 480_000;

/** Returns the RMS level of `samples` in dBFS (-100 for silence or no samples). */
export function measureDbfs(samples: Int16Array): number {
  if (samples.length === 0) return SILENCE_DBFS;
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / samples.length) / 32768;
  return rms > 0 ? Math.max(SILENCE_DBFS, 20 * Math.log10(rms)) : SILENCE_DBFS;
}

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Cuts a stream of 16-bit PCM into frames and scores each; keeps the samples left over between
 * calls. It has no timers: the caller says when each chunk's first sample was captured.
 */
export class VoiceActivityDetector {
  readonly frameMs: number;
  private readonly frameSamples: number;
  private readonly opts: Required<Omit<VadOptions, "frameMs">>;
  /** Samples left over from the last chunk (less than a frame), and the call time of the first. */
  private readonly pending: Int16Array;
  private pendingLength = 0;
  private pendingStartMs = 0;
  private floor: number | undefined;
  private speaking = false;
  private voicedRunStartMs: number | undefined;
  private lastVoicedEndMs = 0;
  /** The last levels (bounded), a ring of `floorCatchUpMs` worth of frames, for the catch-up. */
  private readonly recentLevels: Float64Array;
  private recentCount = 0;

  constructor(
    readonly sampleRate: number,
    options: VadOptions = {},
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      throw new RangeError(
        `Sample rate ${sampleRate} is not supported: use an integer from 8000 to 48000 Hz.`,
      );
    }
    const frameMs = options.frameMs ?? 32;
    if (!(frameMs >= 20 && frameMs <= 32)) {
      throw new RangeError(`VAD frame length ${frameMs} ms is out of range: use 20 to 32 ms.`);
    }
    this.frameSamples = Math.round((sampleRate * frameMs) / 1000);
    this.frameMs = (this.frameSamples * 1000) / sampleRate;
    this.pending = new Int16Array(this.frameSamples);
    this.opts = {
      marginDb: options.marginDb ?? 10,
      minSpeechDbfs: options.minSpeechDbfs ?? -50,
      startMs: options.startMs ?? 64,
      hangoverMs: options.hangoverMs ?? 160,
      floorRiseDbPerSecond: options.floorRiseDbPerSecond ?? 4,
      floorFallRate: options.floorFallRate ?? 0.3,
      floorCatchUpMs: options.floorCatchUpMs ?? 1500,
    };
    if (!(this.opts.floorCatchUpMs >= this.frameMs && this.opts.floorCatchUpMs <= 10_000)) {
      throw new RangeError(
        `VAD floor catch-up time ${this.opts.floorCatchUpMs} ms is out of range: use ${this.frameMs} to 10000 ms.`,
      );
    }
    this.recentLevels = new Float64Array(Math.round(this.opts.floorCatchUpMs / this.frameMs));
  }

  /** Whether speech is in progress (the hysteresis state). */
  get isSpeaking(): boolean {
    return this.speaking;
  }

  /**
   * Adds a chunk whose first sample was captured at call time `atMs` and returns the frames it
   * completed. A chunk continues the samples left over from the last one; `atMs` is used only when
   * nothing is left over, so a jittery arrival time does not shift the timeline.
   */
  push(samples: Int16Array, atMs: number): VadFrame[] {
    if (samples.length > MAX_VAD_CHUNK_SAMPLES) {
      throw new RangeError(
        `An audio chunk of ${samples.length} samples is too long: send at most 10 s at a time.`,
      );
    }
    if (this.pendingLength === 0) this.pendingStartMs = atMs;
    // Frames are scored where they lie (the leftover, completed, then views of the chunk): no copy
    // of the chunk is made, since a session pushes about 31 of them a second.
    const frames: VadFrame[] = [];
    const startOf = (frame: number) =>
      this.pendingStartMs + (frame * this.frameSamples * 1000) / this.sampleRate;
    let done = 0;
    let offset = 0;
    if (this.pendingLength > 0) {
      offset = Math.min(this.frameSamples - this.pendingLength, samples.length);
      this.pending.set(samples.subarray(0, offset), this.pendingLength);
      this.pendingLength += offset;
      if (this.pendingLength < this.frameSamples) return frames;
      frames.push(this.analyse(this.pending, startOf(done++)));
      this.pendingLength = 0;
    }
    while (samples.length - offset >= this.frameSamples) {
      frames.push(this.analyse(samples.subarray(offset, offset + this.frameSamples), startOf(done++)));
      offset += this.frameSamples;
    }
    this.pending.set(samples.subarray(offset));
    this.pendingLength = samples.length - offset;
    this.pendingStartMs = startOf(done);
    return frames;
  }

  /** Forgets the leftover samples, the floor and the speech state (a new stream). */
  reset(): void {
    this.pendingLength = 0;
    this.floor = undefined;
    this.speaking = false;
    this.voicedRunStartMs = undefined;
    this.recentCount = 0;
  }

  private analyse(frame: Int16Array, startMs: number): VadFrame {
    const endMs = startMs + this.frameMs;
    const level = measureDbfs(frame);
    const floor = this.updateFloor(level);
    const { marginDb, minSpeechDbfs } = this.opts;
    const raw =
      logistic((level - floor - marginDb) / SLOPE_DB) * logistic((level - minSpeechDbfs) / SLOPE_DB);
    const score = Math.round(raw * 1000) / 1000;
    const voiced = score >= 0.5;
    const result: VadFrame = {
      startMs,
      endMs,
      levelDbfs: level,
      noiseFloorDbfs: floor,
      score,
      voiced,
      speaking: false,
    };
    if (voiced) {
      this.voicedRunStartMs ??= startMs;
      this.lastVoicedEndMs = endMs;
      if (!this.speaking && endMs - this.voicedRunStartMs >= this.opts.startMs - 1e-6) {
        this.speaking = true;
        result.change = { kind: "start", atMs: this.voicedRunStartMs };
      }
    } else {
      this.voicedRunStartMs = undefined;
      if (this.speaking && endMs - this.lastVoicedEndMs >= this.opts.hangoverMs - 1e-6) {
        this.speaking = false;
        result.change = { kind: "end", atMs: this.lastVoicedEndMs };
      }
    }
    result.speaking = this.speaking;
    return result;
  }

  private updateFloor(level: number): number {
    const bounded = Math.max(MIN_FLOOR_DBFS, level);
    if (this.floor === undefined) {
      this.floor = bounded;
    } else if (bounded < this.floor) {
      this.floor += (bounded - this.floor) * this.opts.floorFallRate;
    } else {
      const maxRise = (this.opts.floorRiseDbPerSecond * this.frameMs) / 1000;
      this.floor += Math.min(bounded - this.floor, maxRise);
    }
    const window = this.recentLevels;
    window[this.recentCount % window.length] = bounded;
    this.recentCount++;
    if (this.recentCount >= window.length) {
      // A full window of steady level whose quietest frame is above the floor: a noise, not speech.
      let quietest = bounded;
      let loudest = bounded;
      for (const recent of window) {
        quietest = Math.min(quietest, recent);
        loudest = Math.max(loudest, recent);
      }
      if (quietest > this.floor && loudest - quietest <= STEADY_SPREAD_DB) this.floor = quietest;
    }
    return this.floor;
  }
}
