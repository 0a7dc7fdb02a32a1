import { describe, expect, it } from "vitest";
import {
  type AudioFormatName,
  bytesForMs,
  durationMs,
  getAudioFormat,
  parseAudioFormat,
  SUPPORTED_AUDIO_FORMATS,
} from "./audio-format.js";

/** The seven formats of the protocol reference (section 5), copied here as the fixture. */
const PROTOCOL_FORMATS = [
  "pcm_8000",
  "pcm_16000",
  "pcm_22050",
  "pcm_24000",
  "pcm_44100",
  "pcm_48000",
  "ulaw_8000",
];

describe("audio formats", () => {
  it("supports exactly the protocol's seven formats", () => {
    expect(SUPPORTED_AUDIO_FORMATS.map((f) => f.name)).toEqual(PROTOCOL_FORMATS);
    for (const name of PROTOCOL_FORMATS) expect(parseAudioFormat(name)?.name).toBe(name);
  });

  it("describes pcm as 2-byte samples and ulaw as 1-byte samples at the named rate", () => {
    expect(parseAudioFormat("pcm_22050")).toEqual({
      name: "pcm_22050",
      encoding: "pcm",
      sampleRate: 22050,
      bytesPerSample: 2,
    });
    expect(parseAudioFormat("ulaw_8000")).toEqual({
      name: "ulaw_8000",
      encoding: "ulaw",
      sampleRate: 8000,
      bytesPerSample: 1,
    });
  });

  it("refuses any other name, including ones the official client's parser would accept", () => {
    for (const name of [
      "pcm_32000",
      "ulaw_16000",
      "alaw_8000",
      "PCM_16000",
      "pcm_16000 ",
      "pcm16000",
      "",
      "constructor",
      "__proto__",
      "toString",
    ]) {
      expect(parseAudioFormat(name), name).toBeUndefined();
    }
  });

  it("looks up a name known at compile time, and throws for one that slipped past the type", () => {
    expect(getAudioFormat("pcm_44100")).toBe(parseAudioFormat("pcm_44100"));
    expect(() => getAudioFormat("pcm_11025" as AudioFormatName)).toThrow(/Unknown audio format pcm_11025/);
  });

  it("cannot be changed by callers", () => {
    const format = parseAudioFormat("pcm_16000");
    expect(Object.isFrozen(format)).toBe(true);
    expect(Object.isFrozen(SUPPORTED_AUDIO_FORMATS)).toBe(true);
  });

  it("converts between bytes and milliseconds", () => {
    const pcm16 = getAudioFormat("pcm_16000");
    const ulaw = getAudioFormat("ulaw_8000");
    // The official web client's uplink chunk: 512 samples = 32 ms.
    expect(durationMs(pcm16, 1024)).toBe(32);
    expect(durationMs(ulaw, 256)).toBe(32);
    expect(durationMs(pcm16, 1025)).toBe(32); // a trailing half sample does not count
    expect(durationMs(getAudioFormat("pcm_48000"), 96_000)).toBe(1000);
    expect(bytesForMs(pcm16, 32)).toBe(1024);
    expect(bytesForMs(ulaw, 100)).toBe(800);
    expect(bytesForMs(getAudioFormat("pcm_24000"), 0)).toBe(0);
  });

  it("always gives whole samples from bytesForMs", () => {
    const pcm22 = getAudioFormat("pcm_22050");
    // 10 ms at 22050 Hz is 220.5 samples: rounded to 221, so an even byte count.
    expect(bytesForMs(pcm22, 10)).toBe(442);
    for (let ms = 0; ms < 200; ms += 0.7) expect(bytesForMs(pcm22, ms) % 2).toBe(0);
  });

  it("refuses negative or non-finite amounts", () => {
    const pcm16 = getAudioFormat("pcm_16000");
    expect(() => durationMs(pcm16, -1)).toThrow(RangeError);
    expect(() => durationMs(pcm16, Number.NaN)).toThrow(RangeError);
    expect(() => bytesForMs(pcm16, -5)).toThrow(/finite number ≥ 0/);
    expect(() => bytesForMs(pcm16, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
