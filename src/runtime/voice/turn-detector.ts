/**
 * Turn-taking from VAD frames: when the user's speech starts, when their turn ends (a silence
 * whose length follows the agent's `turn.turn_eagerness`), and how long they have been silent (for
 * `turn.silence_end_call_timeout`). Pure: time comes only from the frames and the caller's `nowMs`.
 */
import type { VadFrame } from "./voice-activity.js";

/**
 * The silence that ends a turn, per upstream's `turn_eagerness`: an eager agent answers after
 * 500 ms, a normal one after 800 ms, a patient one after 1200 ms. Upstream uses a turn model
 * rather than a fixed silence; these windows are our stand-in, chosen around the usual pause
 * between speakers in conversation (a few hundred ms) plus the time to notice it.
 */
export const SILENCE_WINDOW_MS = { eager: 500, normal: 800, patient: 1200 } as const;

/** Returns the silence window (ms) for an agent's `turn_eagerness`; unknown or missing means normal. */
export function silenceWindowForEagerness(eagerness: string | null | undefined): number {
  if (eagerness === "eager" || eagerness === "patient") return SILENCE_WINDOW_MS[eagerness];
  return SILENCE_WINDOW_MS.normal;
}

/** The tuning of a `TurnDetector`; every field has a default. */
export interface TurnDetectorOptions {
  /** Silence after the last speech that ends the turn (default 800 ms, `SILENCE_WINDOW_MS.normal`). */
  silenceWindowMs?: number;
  /** Voiced time a speech segment needs to count (default 200 ms): shorter ones are clicks. */
  minSpeechMs?: number;
  /** Longest turn: speech still going on this long after the turn began is cut (default 60 s). */
  maxTurnMs?: number;
  /** Call time the detector starts at, from which `userSilentForMs` counts before any speech (default 0). */
  startedAtMs?: number;
}

/** What the detector decided on a frame. */
export type TurnEvent =
  | {
      type: "speech_started";
      /** When the speech began (dated back to its first voiced frame). */
      atMs: number;
      /** The frame end at which it was confirmed (minimum speech reached). */
      detectedAtMs: number;
      /** Whether this speech opens a new turn (false: the user went on within the silence window). */
      newTurn: boolean;
    }
  | {
      type: "speech_ended";
      /** When the turn was ended (the frame end where it was decided). */
      atMs: number;
      /** When the turn's first speech began. */
      turnStartedAtMs: number;
      /** When the turn's last speech ended (`atMs` when cut by the maximum length). */
      lastSpeechAtMs: number;
      /** Speech time in the turn, pauses excluded. */
      speechMs: number;
      /** `silence`: the silence window passed; `max_length`: the turn reached `maxTurnMs`. */
      reason: "silence" | "max_length";
    };

/** Follows the user's turns over VAD frames fed in call-time order. */
export class TurnDetector {
  private readonly silenceWindowMs: number;
  private readonly minSpeechMs: number;
  private readonly maxTurnMs: number;
  /** Start of the current VAD speech segment, if any. */
  private segmentStartMs: number | undefined;
  private segmentLastVoicedEndMs = 0;
  private segmentConfirmed = false;
  private turnStartMs: number | undefined;
  private turnSpeechMs = 0;
  private lastSpeechEndMs: number;

  constructor(options: TurnDetectorOptions = {}) {
    this.silenceWindowMs = options.silenceWindowMs ?? SILENCE_WINDOW_MS.normal;
    this.minSpeechMs = options.minSpeechMs ?? 200;
    this.maxTurnMs = options.maxTurnMs ?? 60_000;
    if (!(this.silenceWindowMs > 0 && this.minSpeechMs >= 0 && this.maxTurnMs > this.minSpeechMs)) {
      throw new RangeError(
        "Turn settings are inconsistent: use a positive silence window and a maximum turn longer than the minimum speech.",
      );
    }
    this.lastSpeechEndMs = options.startedAtMs ?? 0;
  }

  /** Whether the user is speaking now (confirmed speech, clicks excluded): speech while the agent plays is an interruption. */
  get isUserSpeaking(): boolean {
    return this.segmentConfirmed;
  }

  /** Whether a user turn is open (speech heard, its end not yet decided). */
  get isTurnOpen(): boolean {
    return this.turnStartMs !== undefined;
  }

  /** How long (ms) the user has been silent at `nowMs`: 0 while they speak, else since their last speech (or the start). */
  userSilentForMs(nowMs: number): number {
    if (this.segmentConfirmed) return 0;
    return Math.max(0, nowMs - this.lastSpeechEndMs);
  }

  /** Takes the next VAD frame and returns what it decided (usually nothing). */
  push(frame: VadFrame): TurnEvent[] {
    const events: TurnEvent[] = [];
    if (frame.change?.kind === "start") {
      this.segmentStartMs = frame.change.atMs;
      this.segmentConfirmed = false;
    }
    if (this.segmentStartMs !== undefined && frame.voiced) this.segmentLastVoicedEndMs = frame.endMs;
    if (this.segmentStartMs !== undefined && !this.segmentConfirmed) {
      // Measured on voiced frames, so the VAD's hangover after a click does not make it long enough.
      if (this.segmentLastVoicedEndMs - this.segmentStartMs >= this.minSpeechMs) {
        this.segmentConfirmed = true;
        const newTurn = this.turnStartMs === undefined;
        if (newTurn) {
          this.turnStartMs = this.segmentStartMs;
          this.turnSpeechMs = 0;
        }
        events.push({
          type: "speech_started",
          atMs: this.segmentStartMs,
          detectedAtMs: frame.endMs,
          newTurn,
        });
      }
    }
    if (frame.change?.kind === "end" && this.segmentStartMs !== undefined) {
      if (this.segmentConfirmed) {
        this.turnSpeechMs += frame.change.atMs - this.segmentStartMs;
        this.lastSpeechEndMs = frame.change.atMs;
      }
      this.segmentStartMs = undefined;
      this.segmentConfirmed = false;
    }
    const turnStart = this.turnStartMs;
    if (turnStart === undefined) return events;
    // A segment not yet confirmed may still become speech: wait for it (at most the VAD's hangover).
    if (this.segmentStartMs === undefined && frame.endMs - this.lastSpeechEndMs >= this.silenceWindowMs) {
      events.push(this.endTurn(turnStart, frame.endMs, this.lastSpeechEndMs, "silence"));
    } else if (this.segmentConfirmed && frame.endMs - turnStart >= this.maxTurnMs) {
      // Only cut speech in progress: a turn already in its closing silence ends by the window.
      events.push(this.endTurn(turnStart, frame.endMs, frame.endMs, "max_length"));
    }
    return events;
  }

  private endTurn(
    turnStartedAtMs: number,
    atMs: number,
    lastSpeechAtMs: number,
    reason: "silence" | "max_length",
  ): TurnEvent {
    let speechMs = this.turnSpeechMs;
    if (this.segmentStartMs !== undefined && this.segmentConfirmed) {
      // Cut mid-speech: count up to now, and let what follows be confirmed as a new turn.
      speechMs += atMs - this.segmentStartMs;
      this.segmentStartMs = atMs;
      this.segmentLastVoicedEndMs = atMs;
      this.segmentConfirmed = false;
      this.lastSpeechEndMs = atMs;
    }
    this.turnStartMs = undefined;
    this.turnSpeechMs = 0;
    return { type: "speech_ended", atMs, turnStartedAtMs, lastSpeechAtMs, speechMs, reason };
  }
}
