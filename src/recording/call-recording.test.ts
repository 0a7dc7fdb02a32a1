import { describe, expect, it } from "vitest";
import { rms, tone } from "../../test/recording/signals.js";
import { CallRecording } from "./call-recording.js";
import { mixdown } from "./mixdown.js";

const RATE = 16_000;

describe("CallRecording and mixdown", () => {
  it("places user and agent audio on one timeline, silence elsewhere", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    recording.addUser(0, tone(300, 1, RATE));
    recording.addAgent(1500, tone(500, 1, RATE));
    expect(recording.durationMs).toBe(2500);
    expect(recording.hasUser && recording.hasAgent).toBe(true);

    const mix = mixdown(recording, "mix");
    expect(mix.length).toBe(2.5 * RATE);
    expect(rms(mix, RATE, 0.05, 0.95)).toBeGreaterThan(5000);
    expect(rms(mix, RATE, 1.0, 1.5)).toBe(0);
    expect(rms(mix, RATE, 1.55, 2.45)).toBeGreaterThan(5000);

    const user = mixdown(recording, "user");
    expect(rms(user, RATE, 0.05, 0.95)).toBeGreaterThan(5000);
    expect(rms(user, RATE, 1.0, 2.5)).toBe(0);
    const agent = mixdown(recording, "agent");
    expect(rms(agent, RATE, 0, 1.5)).toBe(0);
    expect(rms(agent, RATE, 1.55, 2.45)).toBeGreaterThan(5000);
  });

  it("continues later agent chunks after earlier ones", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    expect(recording.addAgent(1000, tone(500, 1, RATE))).toBe(1000);
    // Asked for 1.5 s, but the first chunk plays until 2 s: it goes after it.
    expect(recording.addAgent(1500, tone(500, 0.5, RATE))).toBe(2000);
    expect(recording.durationMs).toBe(2500);
  });

  it("drops agent audio scheduled after a cut and keeps what played before it", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    recording.addUser(0, tone(300, 0.5, RATE));
    recording.addAgent(1000, tone(500, 1, RATE));
    recording.addAgent(2000, tone(500, 2, RATE));
    recording.cutAgent(1500);
    expect(recording.durationMs).toBe(1500);
    const agent = mixdown(recording, "agent");
    expect(agent.length).toBe(1.5 * RATE);
    expect(rms(agent, RATE, 1.0, 1.5)).toBeGreaterThan(5000);

    // The next agent chunk may start at the cut, not after the dropped audio.
    expect(recording.addAgent(1600, tone(500, 0.2, RATE))).toBe(1600);
    const after = mixdown(recording, "agent");
    expect(rms(after, RATE, 1.5, 1.6)).toBe(0);
    expect(rms(after, RATE, 1.6, 1.8)).toBeGreaterThan(5000);
  });

  it("has no agent audio after a cut before all of it", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    recording.addUser(0, tone(300, 0.5, RATE));
    recording.addAgent(1000, tone(500, 3, RATE));
    recording.cutAgent(200);
    expect(recording.hasAgent).toBe(false);
    expect(recording.durationMs).toBe(500);
    expect(recording.bytesHeld).toBe(RATE * 2);
  });

  it("replaces overlapping user audio instead of summing it", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    recording.addUser(0, new Int16Array(RATE).fill(1000));
    recording.addUser(500, new Int16Array(RATE).fill(3000));
    const user = mixdown(recording, "user");
    expect(user[RATE / 4]).toBe(1000);
    expect(user[(3 * RATE) / 4]).toBe(3000);
    expect(user.length).toBe(1.5 * RATE);
  });

  it("saturates the mix instead of wrapping", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    // 100 ms is 1600 samples: loud positive, then loud negative, on both tracks.
    recording.addUser(0, new Int16Array(1600).fill(30_000));
    recording.addAgent(0, new Int16Array(1600).fill(30_000));
    recording.addUser(100, new Int16Array(1600).fill(-30_000));
    recording.addAgent(100, new Int16Array(1600).fill(-30_000));
    const mix = mixdown(recording, "mix");
    expect(mix[800]).toBe(32_767);
    expect(mix[2400]).toBe(-32_768);
  });

  it("holds the cap: nothing is kept past maxSeconds, memory stays bounded", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 3 });
    recording.addUser(2500, tone(300, 2, RATE));
    recording.addAgent(10_000, tone(500, 1, RATE));
    recording.addUser(-500, tone(300, 1, RATE));
    expect(recording.durationMs).toBe(3000);
    expect(recording.hasAgent).toBe(false);
    expect(recording.droppedSamples).toBe(1.5 * RATE + RATE + 0.5 * RATE);
    expect(recording.bytesHeld).toBeLessThanOrEqual(2 * 3 * RATE * 2);
    expect(mixdown(recording, "mix").length).toBe(3 * RATE);
  });

  it("allocates nothing for silence before the audio", () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 3600 });
    recording.addUser(3_000_000, tone(300, 0.5, RATE));
    expect(recording.bytesHeld).toBe(RATE * 2);
    const user = mixdown(recording, "user");
    expect(rms(user, RATE, 0, 3000)).toBe(0);
    expect(rms(user, RATE, 3000, 3000.5)).toBeGreaterThan(5000);
  });

  it("refuses settings and times it cannot honour", () => {
    expect(() => new CallRecording({ maxSeconds: 0 })).toThrow(/maxSeconds/);
    expect(() => new CallRecording({ maxSeconds: 5 * 3600 })).toThrow(/maxSeconds/);
    expect(() => new CallRecording({ sampleRate: 1000 })).toThrow(/sampleRate/);
    expect(() => new CallRecording().addUser(Number.NaN, new Int16Array(1))).toThrow(/finite/);
  });
});
