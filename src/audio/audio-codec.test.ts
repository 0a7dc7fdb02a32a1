import { describe, expect, it } from "vitest";
import { decodeToPcm, encodeFromPcm } from "./audio-codec.js";
import { getAudioFormat } from "./audio-format.js";

const pcm16 = getAudioFormat("pcm_16000");
const ulaw = getAudioFormat("ulaw_8000");

describe("pcm decoding and encoding", () => {
  it("reads and writes little-endian signed 16-bit samples", () => {
    const bytes = Uint8Array.from([0x01, 0x00, 0x00, 0x01, 0xff, 0xff, 0x01, 0x80, 0xff, 0x7f, 0x00, 0x80]);
    const samples = Int16Array.from([1, 256, -1, -32767, 32767, -32768]);
    expect(Array.from(decodeToPcm(pcm16, bytes))).toEqual(Array.from(samples));
    expect(Array.from(encodeFromPcm(pcm16, samples))).toEqual(Array.from(bytes));
  });

  it("round-trips every 16-bit value exactly", () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    const bytes = encodeFromPcm(getAudioFormat("pcm_48000"), all);
    expect(bytes.length).toBe(all.length * 2);
    const back = decodeToPcm(getAudioFormat("pcm_48000"), bytes);
    expect(Buffer.from(back.buffer).equals(Buffer.from(all.buffer))).toBe(true);
  });

  it("reads a view at an odd offset into a larger buffer", () => {
    const backing = Uint8Array.from([0xaa, 0x34, 0x12, 0xcc, 0xed]);
    expect(Array.from(decodeToPcm(pcm16, backing.subarray(1, 5)))).toEqual([0x1234, -0x1234]);
  });

  it("writes into a caller's array when it is long enough, else into a new one", () => {
    for (const format of [pcm16, ulaw]) {
      const samples = Int16Array.from([0, 1000, -1000, 32767, -32768]);
      const bytesInto = new Uint8Array(64).fill(0xee);
      const bytes = encodeFromPcm(format, samples, bytesInto);
      expect(bytes.buffer).toBe(bytesInto.buffer);
      expect(Array.from(bytes)).toEqual(Array.from(encodeFromPcm(format, samples)));
      expect(bytesInto[bytes.length]).toBe(0xee);
      const samplesInto = new Int16Array(16);
      const back = decodeToPcm(format, bytes, samplesInto);
      expect(back.buffer).toBe(samplesInto.buffer);
      expect(Array.from(back)).toEqual(Array.from(decodeToPcm(format, bytes)));
      const short = new Int16Array(2);
      expect(decodeToPcm(format, bytes, short).buffer).not.toBe(short.buffer);
      expect(encodeFromPcm(format, samples, new Uint8Array(1)).length).toBe(bytes.length);
    }
  });

  it("refuses an odd number of bytes, saying what to pass", () => {
    expect(() => decodeToPcm(pcm16, new Uint8Array(3))).toThrow(/odd length \(3 bytes\)/);
  });

  it("handles empty input", () => {
    expect(decodeToPcm(pcm16, new Uint8Array(0)).length).toBe(0);
    expect(encodeFromPcm(ulaw, new Int16Array(0)).length).toBe(0);
  });
});

describe("μ-law decoding and encoding", () => {
  it("uses one byte per sample and the G.711 code points", () => {
    // G.711 μ-law: 0xFF and 0x7F are zero, 0x80 and 0x00 the extremes (±32124).
    expect(Array.from(decodeToPcm(ulaw, Uint8Array.from([0xff, 0x7f, 0x80, 0x00])))).toEqual([
      0, 0, 32124, -32124,
    ]);
    expect(Array.from(encodeFromPcm(ulaw, Int16Array.from([0, 32767, -32768])))).toEqual([0xff, 0x80, 0x00]);
  });

  it("round-trips every code (except negative zero) exactly", () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i).filter((c) => c !== 0x7f);
    expect(Array.from(encodeFromPcm(ulaw, decodeToPcm(ulaw, codes)))).toEqual(Array.from(codes));
  });

  it("round-trips every 16-bit value within μ-law's quantisation step", () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    const encoded = encodeFromPcm(ulaw, all);
    expect(encoded.length).toBe(all.length);
    const back = decodeToPcm(ulaw, encoded);
    let worst = 0;
    for (let i = 0; i < all.length; i++) {
      const x = all[i] as number;
      const error = Math.abs((back[i] as number) - x);
      // The step grows with the magnitude (about 1/16 of it); values past the clip level (32635)
      // come back as the largest code, 32124.
      const allowed = Math.abs(x) > 32635 ? Math.abs(x) - 32124 : 4 + Math.abs(x) / 16;
      if (error > allowed) worst = Math.max(worst, error);
    }
    expect(worst).toBe(0);
  });
});
