/**
 * The user's side of a voice session: each `user_audio_chunk`'s bytes decoded, resampled to
 * 16 kHz, placed on the call timeline, scored by the voice activity detector and followed by the
 * turn detector; the audio of the turn under way is kept (bounded) for speech recognition.
 *
 * Capture time comes from the samples received, not from when frames arrive: the first chunk is
 * placed at its arrival, each later one right after the samples before it, so network jitter does
 * not move speech on the timeline. When the client falls silent (a muted microphone) and resumes,
 * the timeline jumps to the arrival time rather than lagging behind the call for good.
 */
import { decodeToPcm } from "../../audio/audio-codec.js";
import type { AudioFormat } from "../../audio/audio-format.js";
import { createResampler, type Resampler } from "../../audio/resampler.js";
import type { CallRecording } from "../../recording/call-recording.js";
import { TurnDetector, type TurnEvent } from "./turn-detector.js";
import { VoiceActivityDetector } from "./voice-activity.js";

/** The rate user audio is analysed, recognised and recorded at. */
export const VOICE_SAMPLE_RATE = 16_000;

/** The longest user turn: speech going on longer is cut into turns of this length. */
export const MAX_USER_TURN_MS = 60_000;

/** Audio kept before a turn's detected start (the detector dates speech back to its first frame). */
const PRE_ROLL_MS = 500;

/** Audio kept after the turn's last speech (the VAD's hangover and the silence window). */
const POST_ROLL_MS = 200;

/** When arrival runs this far ahead of the sample count, the client paused: the timeline catches up. */
const RESYNC_MS = 1_000;
/** How far ahead of the call a client's audio may run (a burst sent faster than real time). */
const MAX_AHEAD_MS = 5_000;

/** A `vad_score` goes out every this many VAD frames (every 128 ms), and whenever speech starts or stops. */
const SCORE_EVERY_FRAMES = 4;

/** A user turn that ended, with its audio at `VOICE_SAMPLE_RATE`. */
export type EndedTurn = Extract<TurnEvent, { type: "speech_ended" }> & { samples: Int16Array };

/** What one chunk brought: scores to send, and the turn events it decided. */
export interface VoiceInputResult {
  scores: number[];
  started: Extract<TurnEvent, { type: "speech_started" }>[];
  ended: EndedTurn[];
}

/** Turns a session's user audio into scores and turns; see the module comment. */
export class VoiceInput {
  private readonly resampler: Resampler;
  private readonly vad = new VoiceActivityDetector(VOICE_SAMPLE_RATE);
  private readonly turns: TurnDetector;
  /** Samples (at 16 kHz) received so far, and the call time of the timeline's origin. */
  private received = 0;
  private originMs: number | undefined;
  private frames = 0;
  private lastVoiced = false;
  /** A turn is under way (from its first speech to its end), so its audio is kept whole. */
  private inTurn = false;
  /** The kept audio: from `keptStartMs` on, `keptLength` samples. */
  private kept = new Int16Array(VOICE_SAMPLE_RATE);
  private keptLength = 0;
  private keptStartMs = 0;
  private readonly maxKept = ((MAX_USER_TURN_MS + PRE_ROLL_MS + 2_000) * VOICE_SAMPLE_RATE) / 1000;
  /** The decoded samples of the chunk being pushed (reused: everything that keeps audio copies it). */
  private decoded = new Int16Array(0);

  constructor(
    private readonly format: AudioFormat,
    silenceWindowMs: number,
    private readonly recording?: CallRecording,
  ) {
    this.resampler = createResampler(format.sampleRate, VOICE_SAMPLE_RATE);
    this.turns = new TurnDetector({ silenceWindowMs, maxTurnMs: MAX_USER_TURN_MS });
  }

  /** Whether the user is speaking now (confirmed speech). */
  get userSpeaking(): boolean {
    return this.turns.isUserSpeaking;
  }

  /**
   * Takes one chunk's bytes (whole samples of the format) that arrived at call time `arrivalMs`;
   * they are read before `push` returns and not kept.
   */
  push(bytes: Uint8Array, arrivalMs: number): VoiceInputResult {
    const count = bytes.length / this.format.bytesPerSample;
    if (this.decoded.length < count) this.decoded = new Int16Array(Math.max(count, 2 * this.decoded.length));
    const samples = this.resampler.push(decodeToPcm(this.format, bytes, this.decoded));
    const result: VoiceInputResult = { scores: [], started: [], ended: [] };
    if (samples.length === 0) return result;
    let atMs = this.timelineMs();
    // Audio that runs ahead of the call (a client sending faster than real time) is dropped, so
    // the timeline, the recording and the turn timings never drift into the future.
    if (this.originMs !== undefined && atMs - arrivalMs > MAX_AHEAD_MS) return result;
    if (this.originMs === undefined || arrivalMs - atMs > RESYNC_MS) {
      // The detector keeps its own timeline of leftover samples: after a gap it starts afresh.
      if (this.originMs !== undefined) this.vad.reset();
      this.originMs = arrivalMs - (this.received * 1000) / VOICE_SAMPLE_RATE;
      atMs = arrivalMs;
    }
    this.received += samples.length;
    this.recording?.addUser(atMs, samples);
    this.keep(samples, atMs);
    for (const frame of this.vad.push(samples, atMs)) {
      this.frames += 1;
      if (this.frames % SCORE_EVERY_FRAMES === 0 || frame.voiced !== this.lastVoiced)
        result.scores.push(frame.score);
      this.lastVoiced = frame.voiced;
      for (const event of this.turns.push(frame)) {
        if (event.type === "speech_started") {
          this.inTurn = true;
          result.started.push(event);
        } else {
          this.inTurn = false;
          result.ended.push({
            ...event,
            samples: this.turnAudio(event.turnStartedAtMs, event.lastSpeechAtMs),
          });
        }
      }
    }
    this.trimIdle();
    return result;
  }

  /** Call time just after the last sample received. */
  private timelineMs(): number {
    return (this.originMs ?? 0) + (this.received * 1000) / VOICE_SAMPLE_RATE;
  }

  /** Appends samples to the kept audio (never more than a turn's worth: the oldest go first). */
  private keep(samples: Int16Array, atMs: number): void {
    if (this.keptLength === 0) this.keptStartMs = atMs;
    const needed = this.keptLength + samples.length;
    if (needed > this.maxKept) this.drop(needed - this.maxKept);
    if (this.keptLength + samples.length > this.kept.length) {
      const grown = new Int16Array(
        Math.min(this.maxKept, Math.max(this.kept.length * 2, this.keptLength + samples.length)),
      );
      grown.set(this.kept.subarray(0, this.keptLength));
      this.kept = grown;
    }
    this.kept.set(samples, this.keptLength);
    this.keptLength += samples.length;
  }

  /** Drops the oldest `count` kept samples. */
  private drop(count: number): void {
    const n = Math.min(count, this.keptLength);
    this.kept.copyWithin(0, n, this.keptLength);
    this.keptLength -= n;
    this.keptStartMs += (n * 1000) / VOICE_SAMPLE_RATE;
  }

  /** Between turns only the pre-roll is kept. */
  private trimIdle(): void {
    const preRoll = (PRE_ROLL_MS * VOICE_SAMPLE_RATE) / 1000;
    if (this.inTurn || this.vad.isSpeaking) return;
    if (this.keptLength > 2 * preRoll) this.drop(this.keptLength - preRoll);
  }

  /** A copy of the kept audio from a little before `fromMs` to a little after `toMs`. */
  private turnAudio(fromMs: number, toMs: number): Int16Array {
    const index = (ms: number) =>
      Math.max(
        0,
        Math.min(this.keptLength, Math.round(((ms - this.keptStartMs) * VOICE_SAMPLE_RATE) / 1000)),
      );
    return this.kept.slice(index(fromMs - PRE_ROLL_MS / 2), index(toMs + POST_ROLL_MS));
  }
}
