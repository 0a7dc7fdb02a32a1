import { describe, expect, it } from "vitest";
import { measureDbfs, type VadFrame, VoiceActivityDetector } from "./voice-activity.js";

const RATE = 16_000;

/** A deterministic noise floor (uniform, ±amplitude) with 440 Hz tone bursts added at the given times (ms). */
function signal(totalMs: number, bursts: [number, number][], noise = 100, tone = 8000): Int16Array {
  const out = new Int16Array((totalMs * RATE) / 1000);
  let seed = 12345;
  for (let n = 0; n < out.length; n++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const t = (n / RATE) * 1000;
    const inBurst = bursts.some(([from, to]) => t >= from && t < to);
    const value =
      (seed / 2 ** 31) * 2 * noise - noise + (inBurst ? tone * Math.sin((2 * Math.PI * 440 * n) / RATE) : 0);
    out[n] = Math.round(value);
  }
  return out;
}

/** Feeds the signal in chunks of `chunk` samples, as a client would, from call time 0. */
function run(samples: Int16Array, chunk = 512, vad = new VoiceActivityDetector(RATE)): VadFrame[] {
  const frames: VadFrame[] = [];
  for (let offset = 0; offset < samples.length; offset += chunk) {
    frames.push(...vad.push(samples.subarray(offset, offset + chunk), (offset * 1000) / RATE));
  }
  return frames;
}

const changes = (frames: VadFrame[]) => frames.flatMap((f) => (f.change ? [f.change] : []));

describe("VoiceActivityDetector", () => {
  it("measures RMS in dBFS", () => {
    expect(measureDbfs(new Int16Array(512))).toBe(-100);
    const square = new Int16Array(512).map((_, i) => (i % 2 === 0 ? 16384 : -16384));
    expect(measureDbfs(square)).toBeCloseTo(-6.02, 1);
  });

  it("finds the starts and ends of tone bursts over a noise floor within one frame", () => {
    const frames = run(
      signal(4000, [
        [1000, 1800],
        [2500, 3000],
      ]),
    );
    const found = changes(frames);
    expect(found.map((c) => c.kind)).toEqual(["start", "end", "start", "end"]);
    const expected = [1000, 1800, 2500, 3000];
    found.forEach((change, i) => {
      expect(Math.abs(change.atMs - (expected[i] as number))).toBeLessThanOrEqual(32);
    });
  });

  it("scores noise low and speech high, and frames are 32 ms on the call timeline", () => {
    const frames = run(signal(2000, [[1000, 1500]]));
    expect(frames[0]?.startMs).toBe(0);
    expect(frames[1]?.startMs).toBe(32);
    const noise = frames.filter((f) => f.endMs <= 1000);
    const speech = frames.filter((f) => f.startMs >= 1032 && f.endMs <= 1480);
    expect(Math.max(...noise.map((f) => f.score))).toBeLessThan(0.1);
    expect(Math.min(...speech.map((f) => f.score))).toBeGreaterThan(0.9);
    expect(noise.at(-1)?.noiseFloorDbfs).toBeCloseTo(measureDbfs(signal(1000, [])), 0);
  });

  it("ignores a click shorter than the start time", () => {
    const frames = run(signal(2000, [[1000, 1010]]));
    expect(changes(frames)).toEqual([]);
    expect(frames.some((f) => f.voiced)).toBe(true);
  });

  it("gives the same frames whatever the chunk size", () => {
    const samples = signal(3000, [[700, 1900]]);
    const bySize = run(samples, 300).map((f) => [f.startMs, f.score]);
    expect(bySize).toEqual(run(samples, 512).map((f) => [f.startMs, f.score]));
    expect(run(samples, 700).map((f) => [f.startMs, f.score])).toEqual(bySize);
  });

  it("keeps its leftover samples, not a view of the caller's chunk", () => {
    const samples = signal(3000, [[700, 1900]]);
    const vad = new VoiceActivityDetector(RATE);
    const reused = new Int16Array(700);
    const frames: VadFrame[] = [];
    for (let offset = 0; offset < samples.length; offset += 700) {
      const chunk = samples.subarray(offset, offset + 700);
      reused.set(chunk);
      frames.push(...vad.push(reused.subarray(0, chunk.length), (offset * 1000) / RATE));
      reused.fill(32767); // the caller's buffer is overwritten before the next chunk
    }
    expect(frames.map((f) => [f.startMs, f.score])).toEqual(
      run(samples, 512).map((f) => [f.startMs, f.score]),
    );
  });

  it("adapts its floor to a louder steady noise, which then stops counting as speech", () => {
    const frames = run(signal(12_000, [], 2000));
    const quiet = run(signal(12_000, [], 100));
    expect(changes(quiet)).toEqual([]);
    // The floor is seeded from the first frame, so steady noise never starts speech.
    expect(changes(frames)).toEqual([]);
    const vad = new VoiceActivityDetector(RATE);
    run(signal(2000, [], 100), 512, vad);
    const after = run(signal(10_000, [], 2500), 512, vad);
    // The sudden noise counts as speech at first (a documented limit), until the floor has risen to it.
    expect(changes(after).map((c) => c.kind)).toEqual(["start", "end"]);
    expect(after.at(-1)?.speaking).toBe(false);
    expect(after.at(-1)?.noiseFloorDbfs).toBeGreaterThan(-35);
  });

  it("stops counting a sudden steady noise (a fan after a quiet room) as speech within about 2 s", () => {
    const vad = new VoiceActivityDetector(RATE);
    run(signal(2000, [], 3), 512, vad); // a quiet room, about -84 dBFS
    const fan = run(signal(20_000, [], 600), 512, vad); // a fan starts: about -39 dBFS
    expect(fan[5]?.levelDbfs).toBeGreaterThan(-41);
    const found = changes(fan);
    expect(found.map((c) => c.kind)).toEqual(["start", "end"]);
    expect((found[1]?.atMs ?? Number.POSITIVE_INFINITY) - (found[0]?.atMs ?? 0)).toBeLessThanOrEqual(2000);
    expect(fan.at(-1)?.noiseFloorDbfs).toBeGreaterThan(-45);
  });

  it("keeps hearing speech with the usual short pauses over a steady noise", () => {
    const bursts: [number, number][] = [];
    for (let at = 1000; at < 9000; at += 1000) bursts.push([at, at + 700]);
    const found = changes(run(signal(10_000, bursts, 300)));
    expect(found.map((c) => c.kind)).toEqual(bursts.flatMap(() => ["start", "end"]));
  });

  it("keeps hearing speech that never pauses but keeps changing level, and stops hearing a held tone", () => {
    // Loud and soft syllables (about 10 dB apart) every 200 ms for 4 s, with no gap at all.
    const loud = signal(4000, [[0, 4000]], 100, 8000);
    const soft = signal(4000, [[0, 4000]], 100, 2500);
    const syllables = new Int16Array(6000 * (RATE / 1000));
    syllables.set(signal(1000, []));
    for (let at = 0; at < 4000; at += 200) {
      const from = (at * RATE) / 1000;
      const source = (at / 200) % 2 === 0 ? loud : soft;
      syllables.set(source.subarray(from, from + (200 * RATE) / 1000), ((1000 + at) * RATE) / 1000);
    }
    syllables.set(signal(1000, []), (5000 * RATE) / 1000);
    const found = changes(run(syllables));
    expect(found.map((c) => c.kind)).toEqual(["start", "end"]);
    expect(Math.abs((found[1]?.atMs ?? 0) - 5000)).toBeLessThanOrEqual(32);

    const held = changes(run(signal(6000, [[1000, 5000]])));
    expect(held.map((c) => c.kind)).toEqual(["start", "end"]);
    expect(held[1]?.atMs).toBeLessThan(3000);
  });

  it("rejects an unsupported frame length or sample rate with a clear message", () => {
    expect(() => new VoiceActivityDetector(RATE, { frameMs: 50 })).toThrow(/20 to 32 ms/);
    expect(() => new VoiceActivityDetector(1000)).toThrow(/8000 to 48000/);
  });
});
