import { describe, expect, it } from "vitest";
import {
  SILENCE_WINDOW_MS,
  silenceWindowForEagerness,
  TurnDetector,
  type TurnEvent,
} from "./turn-detector.js";
import { type VadOptions, VoiceActivityDetector } from "./voice-activity.js";

const RATE = 16_000;
const FRAME_MS = 32;

/** Silence with a low noise floor, and 300 Hz tone bursts at the given times (ms). */
function signal(totalMs: number, bursts: [number, number][]): Int16Array {
  const out = new Int16Array((totalMs * RATE) / 1000);
  for (let n = 0; n < out.length; n++) {
    const t = (n / RATE) * 1000;
    const inBurst = bursts.some(([from, to]) => t >= from && t < to);
    out[n] = (n % 7) * 20 - 60 + (inBurst ? Math.round(6000 * Math.sin((2 * Math.PI * 300 * n) / RATE)) : 0);
  }
  return out;
}

interface Run {
  events: TurnEvent[];
  /** The detector's `isUserSpeaking` after the frame ending at each ms. */
  speakingAt: Map<number, boolean>;
  detector: TurnDetector;
}

/** Feeds a signal through the VAD (with `vadOptions`) and the detector in 32 ms chunks. */
function run(samples: Int16Array, detector = new TurnDetector(), vadOptions: VadOptions = {}): Run {
  const vad = new VoiceActivityDetector(RATE, vadOptions);
  const events: TurnEvent[] = [];
  const speakingAt = new Map<number, boolean>();
  for (let offset = 0; offset < samples.length; offset += 512) {
    for (const frame of vad.push(samples.subarray(offset, offset + 512), (offset * 1000) / RATE)) {
      events.push(...detector.push(frame));
      speakingAt.set(frame.endMs, detector.isUserSpeaking);
    }
  }
  return { events, speakingAt, detector };
}

const ends = (events: TurnEvent[]) => events.filter((e) => e.type === "speech_ended");

describe("silenceWindowForEagerness", () => {
  it("maps eager, normal and patient, and defaults to normal", () => {
    expect(silenceWindowForEagerness("eager")).toBe(500);
    expect(silenceWindowForEagerness("normal")).toBe(800);
    expect(silenceWindowForEagerness("patient")).toBe(1200);
    expect(silenceWindowForEagerness(undefined)).toBe(SILENCE_WINDOW_MS.normal);
    expect(silenceWindowForEagerness("something-new")).toBe(800);
  });
});

describe("TurnDetector", () => {
  it("starts a turn at the speech start and ends it once the silence window has passed", () => {
    const { events } = run(signal(4000, [[1000, 1800]]));
    expect(events.map((e) => e.type)).toEqual(["speech_started", "speech_ended"]);
    const [started, ended] = events;
    if (started?.type !== "speech_started" || ended?.type !== "speech_ended")
      throw new Error("unexpected events");
    expect(Math.abs(started.atMs - 1000)).toBeLessThanOrEqual(FRAME_MS);
    expect(started.newTurn).toBe(true);
    expect(ended.reason).toBe("silence");
    expect(Math.abs(ended.lastSpeechAtMs - 1800)).toBeLessThanOrEqual(FRAME_MS);
    expect(ended.atMs - ended.lastSpeechAtMs).toBeGreaterThanOrEqual(800);
    expect(ended.atMs - ended.lastSpeechAtMs).toBeLessThan(800 + FRAME_MS);
    expect(Math.abs(ended.speechMs - 800)).toBeLessThanOrEqual(2 * FRAME_MS);
  });

  it("keeps one turn across a pause shorter than the window, and splits it with an eager window", () => {
    const samples = signal(5000, [
      [1000, 1600],
      [2200, 2800],
    ]);
    const normal = run(samples);
    expect(ends(normal.events)).toHaveLength(1);
    expect(
      normal.events
        .filter((e) => e.type === "speech_started")
        .map((e) => e.type === "speech_started" && e.newTurn),
    ).toEqual([true, false]);
    const eager = run(samples, new TurnDetector({ silenceWindowMs: silenceWindowForEagerness("eager") }));
    expect(ends(eager.events)).toHaveLength(2);
  });

  it("ignores speech shorter than the minimum (a click or a breath)", () => {
    const { events, speakingAt } = run(signal(3000, [[1000, 1120]]));
    expect(events).toEqual([]);
    expect([...speakingAt.values()].some(Boolean)).toBe(false);
    const lenient = run(signal(3000, [[1000, 1120]]), new TurnDetector({ minSpeechMs: 64 }));
    expect(lenient.events.map((e) => e.type)).toEqual(["speech_started", "speech_ended"]);
  });

  it("says whether the user is speaking now, for interruptions", () => {
    const { speakingAt } = run(signal(3000, [[1000, 1800]]));
    expect(speakingAt.get(960)).toBe(false);
    expect(speakingAt.get(1504)).toBe(true);
    expect(speakingAt.get(2496)).toBe(false);
  });

  it("ends a turn that reaches the maximum length, and starts a new one if the user goes on", () => {
    // A steady tone this long would become the noise floor (speech never holds one level so long).
    const { events } = run(signal(7000, [[1000, 4500]]), new TurnDetector({ maxTurnMs: 2000 }), {
      floorCatchUpMs: 10_000,
    });
    expect(events.map((e) => e.type)).toEqual([
      "speech_started",
      "speech_ended",
      "speech_started",
      "speech_ended",
    ]);
    const cut = events[1];
    if (cut?.type !== "speech_ended") throw new Error("expected an end");
    expect(cut.reason).toBe("max_length");
    expect(cut.atMs - cut.turnStartedAtMs).toBeGreaterThanOrEqual(2000);
    expect(cut.atMs - cut.turnStartedAtMs).toBeLessThan(2000 + FRAME_MS);
    expect(events[3]?.type === "speech_ended" && events[3].reason).toBe("silence");
  });

  it("counts the user's silence from their last speech, or from the start", () => {
    const fresh = new TurnDetector({ startedAtMs: 500 });
    expect(fresh.userSilentForMs(2500)).toBe(2000);
    const { detector, events } = run(signal(3000, [[1000, 1800]]));
    const ended = events.find((e) => e.type === "speech_ended");
    if (ended?.type !== "speech_ended") throw new Error("expected an end");
    expect(detector.userSilentForMs(10_000)).toBe(10_000 - ended.lastSpeechAtMs);
  });

  it("rejects inconsistent settings with a clear message", () => {
    expect(() => new TurnDetector({ maxTurnMs: 100, minSpeechMs: 200 })).toThrow(/maximum turn longer/);
  });
});
