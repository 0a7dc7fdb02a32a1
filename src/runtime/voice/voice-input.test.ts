import { describe, expect, it } from "vitest";
import { encodeFromPcm } from "../../audio/audio-codec.js";
import { type AudioFormat, getAudioFormat } from "../../audio/audio-format.js";
import { createResampler } from "../../audio/resampler.js";
import { CallRecording } from "../../recording/call-recording.js";
import { VoiceInput, type VoiceInputResult } from "./voice-input.js";

/** 16 kHz: a faint noise floor, and 300 Hz bursts at the given ms. */
function signal(totalMs: number, bursts: [number, number][]): Int16Array {
  const out = new Int16Array(totalMs * 16);
  for (let n = 0; n < out.length; n++) {
    const t = n / 16;
    const loud = bursts.some(([from, to]) => t >= from && t < to);
    out[n] = (n % 7) * 20 - 60 + (loud ? Math.round(6000 * Math.sin((2 * Math.PI * 300 * n) / 16_000)) : 0);
  }
  return out;
}

/** Pushes a 16 kHz signal in 32 ms chunks of `format`, each arriving at `arrival(i)`. */
function feed(input: VoiceInput, samples: Int16Array, format: AudioFormat, arrival: (i: number) => number) {
  const resampler = createResampler(16_000, format.sampleRate);
  const all: VoiceInputResult = { scores: [], started: [], ended: [] };
  for (let i = 0; i * 512 < samples.length; i++) {
    const chunk = encodeFromPcm(format, resampler.push(samples.subarray(i * 512, (i + 1) * 512)));
    const result = input.push(chunk, arrival(i));
    all.scores.push(...result.scores);
    all.started.push(...result.started);
    all.ended.push(...result.ended);
  }
  return all;
}

describe("VoiceInput", () => {
  it("places audio by the samples received, not by arrival, and keeps the turn's audio", () => {
    const recording = new CallRecording();
    const input = new VoiceInput(getAudioFormat("pcm_16000"), 800, recording);
    // Everything arrives at once, 100 ms into the call.
    const result = feed(input, signal(3000, [[500, 1500]]), getAudioFormat("pcm_16000"), () => 100);
    expect(result.started[0]?.atMs).toBeGreaterThanOrEqual(580);
    expect(result.started[0]?.atMs).toBeLessThanOrEqual(640);
    const ended = result.ended[0];
    expect(ended?.lastSpeechAtMs).toBeGreaterThan(1550);
    expect(ended?.lastSpeechAtMs).toBeLessThan(1700);
    // The speech with a little before and after it: about 1.0 s + 0.25 s + 0.2 s.
    expect((ended?.samples.length ?? 0) / 16).toBeGreaterThan(1200);
    expect((ended?.samples.length ?? 0) / 16).toBeLessThan(1700);
    expect(recording.durationMs).toBeCloseTo(3100, -1);
  });

  it("drops audio that runs more than 5 s ahead of the call, so the timeline never drifts", () => {
    const recording = new CallRecording();
    const input = new VoiceInput(getAudioFormat("pcm_16000"), 800, recording);
    // 10 s of audio, all arriving 100 ms into the call: only what fits 5 s ahead is kept.
    feed(input, signal(10_000, []), getAudioFormat("pcm_16000"), () => 100);
    expect(recording.durationMs).toBeGreaterThan(5_000);
    expect(recording.durationMs).toBeLessThan(5_200);
  });

  it("scores every fourth frame and on each change, fewer than one a frame", () => {
    const input = new VoiceInput(getAudioFormat("pcm_16000"), 800);
    const result = feed(input, signal(3200, [[1100, 2210]]), getAudioFormat("pcm_16000"), () => 0);
    expect(result.scores.length).toBeGreaterThan(3200 / 32 / 4);
    expect(result.scores.length).toBeLessThan(3200 / 32 / 2);
    expect(result.scores.some((s) => s > 0.5)).toBe(true);
  });

  it("hears μ-law at 8 kHz the same way", () => {
    const input = new VoiceInput(getAudioFormat("ulaw_8000"), 500);
    const result = feed(input, signal(2500, [[400, 1200]]), getAudioFormat("ulaw_8000"), () => 0);
    expect(result.started).toHaveLength(1);
    expect(result.ended).toHaveLength(1);
  });

  it("jumps to the arrival time when the client resumes after a pause", () => {
    const input = new VoiceInput(getAudioFormat("pcm_16000"), 800);
    feed(input, signal(1000, []), getAudioFormat("pcm_16000"), (i) => i * 32);
    // Nothing for 10 s, then speech.
    const result = feed(
      input,
      signal(2500, [[300, 1100]]),
      getAudioFormat("pcm_16000"),
      (i) => 11_000 + i * 32,
    );
    expect(result.started[0]?.atMs).toBeGreaterThan(11_250);
    expect(result.started[0]?.atMs).toBeLessThan(11_450);
  });
});
