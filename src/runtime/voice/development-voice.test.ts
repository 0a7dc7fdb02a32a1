import { describe, expect, it } from "vitest";
import {
  DEVELOPMENT_MS_PER_CHAR,
  developmentSpeechMs,
  MAX_SPOKEN_CHARS,
  placeholderTranscript,
  synthesizeSpeech,
} from "./development-voice.js";
import { measureDbfs, VoiceActivityDetector } from "./voice-activity.js";

describe("placeholderTranscript", () => {
  it("gives the speech length in seconds with one decimal", () => {
    expect(placeholderTranscript(1400)).toBe("[speech 1.4 s]");
    expect(placeholderTranscript(960)).toBe("[speech 1.0 s]");
    expect(placeholderTranscript(-5)).toBe("[speech 0.0 s]");
  });
});

describe("synthesizeSpeech", () => {
  it("lasts 65 ms per character, at the requested rate", () => {
    const text = "Hello, how can I help?";
    for (const rate of [8000, 16_000, 44_100]) {
      const speech = synthesizeSpeech(text, rate);
      expect(speech.durationMs).toBe(text.length * DEVELOPMENT_MS_PER_CHAR);
      expect(speech.samples.length).toBe(Math.round((speech.durationMs * rate) / 1000));
      expect(speech.sampleRate).toBe(rate);
    }
    expect(developmentSpeechMs("abcd")).toBe(4 * DEVELOPMENT_MS_PER_CHAR);
    expect(synthesizeSpeech("", 16_000).samples.length).toBe(0);
  });

  it("has an alignment that spells the text over exactly its duration", () => {
    const text = "Two words.";
    const { alignment, durationMs } = synthesizeSpeech(text, 16_000);
    expect(alignment.chars.join("")).toBe(text);
    expect(alignment.char_durations_ms.reduce((a, b) => a + b, 0)).toBe(durationMs);
  });

  it("sounds during the words and is silent in the gaps the alignment gives", () => {
    const rate = 16_000;
    const { samples, alignment } = synthesizeSpeech("Hello world", rate);
    const at = (ms: number) => Math.round((ms * rate) / 1000);
    const space = alignment.chars.indexOf(" ");
    const spaceStart = alignment.char_start_times_ms[space] ?? 0;
    const spaceEnd = spaceStart + (alignment.char_durations_ms[space] ?? 0);
    const firstWord = samples.subarray(at(20), at(spaceStart - 20));
    expect(measureDbfs(firstWord)).toBeGreaterThan(-25);
    expect(measureDbfs(firstWord)).toBeLessThan(-10);
    expect(samples.subarray(at(spaceStart) + 1, at(spaceEnd) - 1).every((s) => s === 0)).toBe(true);
  });

  it("is heard as speech by the voice activity detector", () => {
    const rate = 16_000;
    const silence = new Int16Array(rate / 2);
    const { samples, durationMs } = synthesizeSpeech("This is the development voice", rate);
    const vad = new VoiceActivityDetector(rate);
    const frames = [
      ...vad.push(silence, 0),
      ...vad.push(samples, 500),
      ...vad.push(new Int16Array(rate), 500 + durationMs),
    ];
    const changes = frames.flatMap((f) => (f.change ? [f.change] : []));
    expect(changes[0]?.kind).toBe("start");
    expect(Math.abs((changes[0]?.atMs ?? 0) - 500)).toBeLessThanOrEqual(32);
    expect(changes.at(-1)?.kind).toBe("end");
    expect(Math.abs((changes.at(-1)?.atMs ?? 0) - (500 + durationMs))).toBeLessThanOrEqual(32);
  });

  it("rejects an unsupported sample rate or an over-long text with a clear message", () => {
    expect(() => synthesizeSpeech("hi", 100)).toThrow(/8000 to 48000/);
    expect(() => synthesizeSpeech("a".repeat(MAX_SPOKEN_CHARS + 1), 16_000)).toThrow(/sentences/);
  });
});
