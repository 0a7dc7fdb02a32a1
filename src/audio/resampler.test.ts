import { describe, expect, it } from "vitest";
import { createResampler, type Resampler, resamplePieces } from "./resampler.js";

const AMPLITUDE = 10_000;

/** `seconds` of a sine at `hz`, sampled at `rate`. */
function sine(hz: number, rate: number, seconds: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

/** Pushes `input` in chunks of the given sizes (cycled), then flushes; returns everything emitted. */
function runChunked(resampler: Resampler, input: Int16Array, sizes: number[]): Int16Array {
  const parts: Int16Array[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = sizes[i % sizes.length] as number;
    parts.push(resampler.push(input.subarray(at, at + size)));
    at += size;
  }
  parts.push(resampler.flush());
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Sign changes between consecutive samples. */
function zeroCrossings(samples: Int16Array): number {
  let count = 0;
  for (let i = 1; i < samples.length; i++) {
    if ((samples[i - 1] as number) < 0 !== (samples[i] as number) < 0) count++;
  }
  return count;
}

describe("createResampler", () => {
  const input = sine(440, 24_000, 1);
  const whole = runChunked(createResampler(24_000, 16_000), input, [input.length]);

  it("gives the same output for odd-sized chunks as for the whole buffer", () => {
    const chunked = runChunked(createResampler(24_000, 16_000), input, [1, 7, 333, 13, 101, 2, 997]);
    expect(chunked.length).toBe(whole.length);
    let worst = 0;
    for (let i = 0; i < whole.length; i++) {
      worst = Math.max(worst, Math.abs((chunked[i] as number) - (whole[i] as number)));
    }
    // The read position is an exact fraction, so the chunked output is identical, not just close.
    expect(worst).toBe(0);
  });

  it("emits round(input × to / from) samples", () => {
    expect(whole.length).toBe(16_000);
    const odd = sine(440, 24_000, 0.2).subarray(0, 2_401);
    expect(runChunked(createResampler(24_000, 16_000), odd, [5]).length).toBe(Math.round((2_401 * 2) / 3));
    for (const [from, to, n] of [
      [8_000, 24_000, 1_001],
      [22_050, 16_000, 4_411],
      [44_100, 8_000, 12_345],
      [16_000, 48_000, 7],
      [48_000, 16_000, 3],
    ] as const) {
      const output = runChunked(createResampler(from, to), sine(300, from, n / from), [17, 3]);
      expect(Math.abs(output.length - Math.round((n * to) / from)), `${from}→${to}`).toBeLessThanOrEqual(1);
    }
  });

  it("preserves the frequency", () => {
    // 440 Hz for one second: 880 sign changes at any sample rate.
    expect(Math.abs(zeroCrossings(input) - 880)).toBeLessThanOrEqual(2);
    expect(Math.abs(zeroCrossings(whole) - 880)).toBeLessThanOrEqual(2);
    // And each output sample is the sine at the output rate, to within interpolation error.
    const expected = sine(440, 16_000, 1);
    let worst = 0;
    for (let i = 0; i < whole.length; i++) {
      worst = Math.max(worst, Math.abs((whole[i] as number) - (expected[i] as number)));
    }
    expect(worst).toBeLessThan(40);
  });

  it("upsamples without steps at chunk boundaries", () => {
    const low = sine(440, 8_000, 0.5);
    const up = runChunked(createResampler(8_000, 48_000), low, [3, 11, 40]);
    expect(up.length).toBe(24_000);
    expect(Math.abs(zeroCrossings(up) - 440)).toBeLessThanOrEqual(2);
    // The steepest slope of the sine at 48 kHz is 2π·440/48000·A ≈ 576 per sample.
    let steepest = 0;
    for (let i = 1; i < up.length; i++)
      steepest = Math.max(steepest, Math.abs((up[i] as number) - (up[i - 1] as number)));
    expect(steepest).toBeLessThan(650);
  });

  it("interpolates linearly between input samples", () => {
    const up = createResampler(8_000, 16_000);
    expect(Array.from(up.push(Int16Array.from([0, 100, -100])))).toEqual([0, 50, 100, 0, -100]);
    expect(Array.from(up.flush())).toEqual([-100]);
  });

  it("starts a new stream after flush", () => {
    const down = createResampler(16_000, 8_000);
    expect(Array.from(down.push(Int16Array.from([1, 2, 3, 4])))).toEqual([1, 3]);
    expect(down.flush().length).toBe(0);
    expect(Array.from(down.push(Int16Array.from([7, 8])))).toEqual([7]);
  });

  it("returns the same array, uncopied, when the rates are equal", () => {
    const same = createResampler(16_000, 16_000);
    const chunk = Int16Array.from([1, 2, 3]);
    expect(same.push(chunk)).toBe(chunk);
    expect(same.flush().length).toBe(0);
  });

  it("handles empty chunks", () => {
    const down = createResampler(24_000, 16_000);
    expect(down.push(new Int16Array(0)).length).toBe(0);
    expect(down.flush().length).toBe(0);
  });

  it("refuses rates that are not positive whole numbers", () => {
    expect(() => createResampler(0, 16_000)).toThrow(/fromRate must be a whole number/);
    expect(() => createResampler(16_000, 22_050.5)).toThrow(RangeError);
    expect(() => createResampler(-8_000, 8_000)).toThrow(RangeError);
    expect(() => createResampler(16_000, 10_000_000)).toThrow(RangeError);
  });
});

describe("resamplePieces", () => {
  it("gives the whole signal's output, sample for sample, however it was cut", () => {
    const input = sine(300, 24_000, 0.7);
    for (const [from, to] of [
      [24_000, 16_000],
      [16_000, 44_100],
      [8_000, 48_000],
    ] as const) {
      const signal = from === 24_000 ? input : sine(300, from, 0.7);
      const whole = Array.from(runChunked(createResampler(from, to), signal, [signal.length]));
      const cuts = [1, 7, 480, 4_800, 3];
      const pieces: Int16Array[] = [];
      for (let at = 0, i = 0; at < signal.length; i++) {
        pieces.push(signal.subarray(at, at + (cuts[i % cuts.length] as number)));
        at += cuts[i % cuts.length] as number;
      }
      expect(Array.from(resamplePieces(pieces, from, to))).toEqual(whole);
      expect(Array.from(resamplePieces([signal], from, to))).toEqual(whole);
    }
  });

  it("joins pieces of equal rates, and gives a single piece back as it is", () => {
    const a = Int16Array.from([1, 2, 3]);
    const b = Int16Array.from([4, 5]);
    expect(Array.from(resamplePieces([a, b], 16_000, 16_000))).toEqual([1, 2, 3, 4, 5]);
    expect(resamplePieces([a], 16_000, 16_000)).toBe(a);
    expect(resamplePieces([], 24_000, 16_000).length).toBe(0);
  });
});
