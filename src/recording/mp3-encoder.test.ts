import { MPEGDecoder } from "mpg123-decoder";
import { describe, expect, it } from "vitest";
import { rms, tone } from "../../test/recording/signals.js";
import { CallRecording } from "./call-recording.js";
import { encodeMp3, encodeMp3WithStats, encodeRecordingMp3 } from "./mp3-encoder.js";

const RATE = 16_000;
/** Samples per MPEG-2 Layer III frame. */
const FRAME = 576;
/** LAME's encoder delay (576 + 529 samples), at most: the decoder may or may not trim it. */
const ENCODER_DELAY = 1105;

/** 0.5 s of silence, 2 s of a 440 Hz tone, 0.5 s of silence: 3 s in all. */
function toneInSilence(): Int16Array {
  const samples = new Int16Array(3 * RATE);
  samples.set(tone(440, 2, RATE), 0.5 * RATE);
  return samples;
}

async function decode(mp3: Uint8Array): Promise<{ samples: Float32Array; sampleRate: number }> {
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const decoded = decoder.decode(mp3);
    expect(decoded.errors).toEqual([]);
    return { samples: decoded.channelData[0] ?? new Float32Array(), sampleRate: decoded.sampleRate };
  } finally {
    decoder.free();
  }
}

describe("encodeMp3", () => {
  it("encodes a tone to a mono 16 kHz MP3 that decodes to the same length, the tone where it was", async () => {
    const input = toneInSilence();
    const mp3 = await encodeMp3(input, RATE, { kbps: 48 });
    // Constant bit rate: 48 kbit/s for ~3 s is about 18 KB.
    expect(mp3.byteLength).toBeGreaterThan(15_000);
    expect(mp3.byteLength).toBeLessThan(22_000);

    // The first frame header: MPEG-2 Layer III without CRC (0xFFF3), channel mode 3 (mono). The
    // decoder always hands back two channels, so the header is where mono shows.
    expect([mp3[0], mp3[1]]).toEqual([0xff, 0xf3]);
    expect((mp3[3] as number) >> 6).toBe(3);

    const { samples, sampleRate } = await decode(mp3);
    expect(sampleRate).toBe(RATE);
    expect(samples.length).toBeGreaterThanOrEqual(3 * RATE);
    expect(samples.length).toBeLessThanOrEqual(3 * RATE + ENCODER_DELAY + FRAME);

    // Skip the encoder delay, then compare windows clear of the tone's edges.
    const aligned = samples.subarray(ENCODER_DELAY);
    const level = 8000 / 32768 / Math.SQRT2;
    expect(rms(aligned, RATE, 0, 0.4)).toBeLessThan(level / 50);
    expect(rms(aligned, RATE, 0.6, 2.4)).toBeGreaterThan(level * 0.8);
    expect(rms(aligned, RATE, 0.6, 2.4)).toBeLessThan(level * 1.2);
    expect(rms(aligned, RATE, 2.6, 2.9)).toBeLessThan(level / 50);

    // Still 440 Hz: count rising zero crossings over one second of the tone.
    let crossings = 0;
    for (let i = RATE + 1; i < 2 * RATE; i++) {
      if ((aligned[i - 1] as number) < 0 && (aligned[i] as number) >= 0) crossings++;
    }
    expect(crossings).toBeGreaterThanOrEqual(438);
    expect(crossings).toBeLessThanOrEqual(442);
  });

  it("mixes a recording down in the worker and encodes it, taking the recording's audio", async () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    recording.addUser(0, tone(440, 1, RATE));
    recording.addAgent(1500, tone(440, 1, RATE));
    const { mp3 } = await encodeRecordingMp3(recording, "mix");
    expect(recording.durationMs).toBe(0);
    expect(recording.hasUser || recording.hasAgent).toBe(false);

    const { samples } = await decode(mp3);
    const aligned = samples.subarray(ENCODER_DELAY);
    expect(aligned.length).toBeGreaterThanOrEqual(2.5 * RATE);
    const level = 8000 / 32768 / Math.SQRT2;
    expect(rms(aligned, RATE, 0.1, 0.9)).toBeGreaterThan(level * 0.8);
    expect(rms(aligned, RATE, 1.1, 1.4)).toBeLessThan(level / 50);
    expect(rms(aligned, RATE, 1.6, 2.4)).toBeGreaterThan(level * 0.8);
  });

  it("hands a long recording's tracks to the worker in pieces and gets all of it back in place", async () => {
    const recording = new CallRecording({ sampleRate: RATE, maxSeconds: 60 });
    // The user speaks in even seconds and the agent in odd ones up to 40 s: 20 one-second
    // segments a track, more than one piece (16) carries. Then 2 s of silence and a last tone.
    for (let second = 0; second < 40; second++) {
      if (second % 2 === 0) recording.addUser(second * 1000, tone(440, 1, RATE));
      else recording.addAgent(second * 1000, tone(440, 1, RATE));
    }
    recording.addAgent(42_000, tone(440, 1, RATE));
    const { mp3 } = await encodeRecordingMp3(recording, "mix");

    const { samples } = await decode(mp3);
    const aligned = samples.subarray(ENCODER_DELAY);
    expect(aligned.length).toBeGreaterThanOrEqual(43 * RATE);
    const level = 8000 / 32768 / Math.SQRT2;
    // Seconds from each track's first and second piece, the silence, and the last tone.
    for (const [from, to] of [
      [4.1, 4.9],
      [5.1, 5.9],
      [34.1, 34.9],
      [37.1, 37.9],
      [42.1, 42.9],
    ] as const) {
      expect(rms(aligned, RATE, from, to)).toBeGreaterThan(level * 0.8);
      expect(rms(aligned, RATE, from, to)).toBeLessThan(level * 1.2);
    }
    expect(rms(aligned, RATE, 40.2, 41.8)).toBeLessThan(level / 50);
  });

  it("transfers a buffer it owns whole and copies a view into a larger one", async () => {
    const owned = tone(440, 0.5, RATE);
    const { mp3, encodeMs } = await encodeMp3WithStats(owned, RATE);
    expect(owned.length).toBe(0);
    expect(mp3.byteLength).toBeGreaterThan(0);
    expect(encodeMs).toBeGreaterThan(0);

    const whole = tone(440, 1, RATE);
    const view = whole.subarray(RATE / 2);
    await encodeMp3(view, RATE);
    expect(view.length).toBe(RATE / 2);
    expect(whole.length).toBe(RATE);
  });

  it("refuses a sample rate or bit rate MP3 does not have, and input past the cap", async () => {
    await expect(encodeMp3(new Int16Array(10), 15_000)).rejects.toThrow(/resample to one of/);
    await expect(encodeMp3(new Int16Array(10), RATE, { kbps: 320 })).rejects.toThrow(/pick one of/);
    const tooLong = { length: 4 * 3600 * RATE + 1 } as Int16Array;
    await expect(encodeMp3(tooLong, RATE)).rejects.toThrow(/split the recording/);
  });

  it("rejects when the encode takes longer than its limit", async () => {
    await expect(encodeMp3(tone(440, 3, RATE), RATE, { timeoutMs: 1 })).rejects.toThrow(/longer than 1 ms/);
  });
});
