import { describe, expect, it } from "vitest";
import { encodeWav, InvalidWavError, parseWav, WAV_HEADER_BYTES } from "./wav.js";

const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);

/** A WAV file assembled chunk by chunk, for the headers encodeWav never writes. */
function riff(chunks: Array<[string, Uint8Array]>, riffSizeDelta = 0): Uint8Array {
  const parts: number[] = [];
  const push32 = (n: number) => parts.push(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
  const pushTag = (tag: string) => parts.push(...Array.from(tag, (c) => c.charCodeAt(0)));
  pushTag("RIFF");
  push32(0);
  pushTag("WAVE");
  for (const [id, body] of chunks) {
    pushTag(id);
    push32(body.length);
    parts.push(...body);
    if (body.length % 2 === 1) parts.push(0);
  }
  const bytes = Uint8Array.from(parts);
  new DataView(bytes.buffer).setUint32(4, bytes.length - 8 + riffSizeDelta, true);
  return bytes;
}

function fmtChunk(o: { format?: number; channels?: number; rate?: number; bits?: number; align?: number }) {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  view.setUint16(0, o.format ?? 1, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, o.rate ?? 16_000, true);
  view.setUint32(8, (o.rate ?? 16_000) * channels * (bits / 8), true);
  view.setUint16(12, o.align ?? channels * (bits / 8), true);
  view.setUint16(14, bits, true);
  return body;
}

function int16Bytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 2);
  const view = new DataView(bytes.buffer);
  for (const [i, v] of values.entries()) view.setInt16(2 * i, v, true);
  return bytes;
}

describe("encodeWav", () => {
  it("writes the canonical 44-byte header of 16-bit mono PCM", () => {
    const wav = encodeWav(samples, 16_000);
    const view = new DataView(wav.buffer);
    const tag = (at: number) => String.fromCharCode(...wav.subarray(at, at + 4));
    expect(wav.length).toBe(WAV_HEADER_BYTES + samples.length * 2);
    expect([tag(0), tag(8), tag(12), tag(36)]).toEqual(["RIFF", "WAVE", "fmt ", "data"]);
    expect(view.getUint32(4, true)).toBe(wav.length - 8);
    expect(view.getUint32(16, true)).toBe(16);
    expect(view.getUint16(20, true)).toBe(1); // PCM
    expect(view.getUint16(22, true)).toBe(1); // mono
    expect(view.getUint32(24, true)).toBe(16_000);
    expect(view.getUint32(28, true)).toBe(32_000); // byte rate
    expect(view.getUint16(32, true)).toBe(2); // block align
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(samples.length * 2);
    expect(Array.from(wav.subarray(44, 48))).toEqual([0, 0, 1, 0]); // little-endian samples
  });

  it("round-trips through parseWav", () => {
    const parsed = parseWav(encodeWav(samples, 22_050));
    expect(parsed.sampleRate).toBe(22_050);
    expect(parsed.channels).toBe(1);
    expect(Array.from(parsed.samples)).toEqual(Array.from(samples));
    expect(parseWav(encodeWav(new Int16Array(0), 8_000)).samples.length).toBe(0);
  });

  it("refuses a sample rate that is not a positive whole number", () => {
    expect(() => encodeWav(samples, 0)).toThrow(RangeError);
    expect(() => encodeWav(samples, 16_000.5)).toThrow(/positive whole number/);
  });
});

describe("parseWav", () => {
  it("skips chunks such as LIST before the data, including an odd-sized one's pad byte", () => {
    const wav = riff([
      ["LIST", Uint8Array.from([1, 2, 3])],
      ["fmt ", fmtChunk({ rate: 24_000 })],
      ["fact", new Uint8Array(4)],
      ["data", int16Bytes([5, -6, 7])],
    ]);
    expect(parseWav(wav)).toEqual({ sampleRate: 24_000, channels: 1, samples: Int16Array.from([5, -6, 7]) });
  });

  it("mixes several channels down to mono", () => {
    const wav = riff([
      ["fmt ", fmtChunk({ channels: 2 })],
      ["data", int16Bytes([100, 300, -32768, -32768, 32767, -32768, 1, 2])],
    ]);
    const parsed = parseWav(wav);
    expect(parsed.channels).toBe(2);
    expect(Array.from(parsed.samples)).toEqual([200, -32768, 0, 2]);
  });

  it("accepts WAVE_FORMAT_EXTENSIBLE with the PCM sub-format", () => {
    const fmt = new Uint8Array(40);
    fmt.set(fmtChunk({ format: 0xfffe }));
    new DataView(fmt.buffer).setUint16(16, 22, true); // cbSize
    new DataView(fmt.buffer).setUint16(24, 1, true); // sub-format GUID starts with PCM
    expect(
      parseWav(
        riff([
          ["fmt ", fmt],
          ["data", int16Bytes([9])],
        ]),
      ).samples[0],
    ).toBe(9);
    new DataView(fmt.buffer).setUint16(24, 3, true); // IEEE float
    expect(() =>
      parseWav(
        riff([
          ["fmt ", fmt],
          ["data", int16Bytes([9])],
        ]),
      ),
    ).toThrow(/not PCM/);
  });

  it("reads a WAV held at an offset inside a larger buffer", () => {
    const wav = encodeWav(samples, 8_000);
    const backing = new Uint8Array(wav.length + 3);
    backing.set(wav, 3);
    expect(Array.from(parseWav(backing.subarray(3)).samples)).toEqual(Array.from(samples));
  });

  it("says what is wrong with a malformed file", () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /Not a WAV file/],
      [new TextEncoder().encode("RIFF\0\0\0\0AVI LIST"), /Not a WAV file/],
      [
        encodeWav(samples, 16_000).subarray(0, 50),
        /truncated: the RIFF header declares 58 bytes but there are 50/,
      ],
      [riff([["data", int16Bytes([1])]]), /"data" chunk comes before "fmt "/],
      [riff([["fmt ", fmtChunk({})]]), /no "data" chunk/],
      [riff([["LIST", new Uint8Array(2)]]), /no "fmt " chunk/],
      [riff([["fmt ", new Uint8Array(14)]]), /"fmt " chunk is 14 bytes/],
      [
        riff([
          ["fmt ", fmtChunk({ format: 3, bits: 32 })],
          ["data", new Uint8Array(4)],
        ]),
        /format is 3, not PCM/,
      ],
      [
        riff([
          ["fmt ", fmtChunk({ bits: 8 })],
          ["data", new Uint8Array(4)],
        ]),
        /8-bit samples/,
      ],
      [
        riff([
          ["fmt ", fmtChunk({ channels: 0 })],
          ["data", new Uint8Array(4)],
        ]),
        /0 channels/,
      ],
      [
        riff([
          ["fmt ", fmtChunk({ rate: 0 })],
          ["data", new Uint8Array(4)],
        ]),
        /sample rate of 0 Hz/,
      ],
      [
        riff([
          ["fmt ", fmtChunk({ align: 3 })],
          ["data", new Uint8Array(4)],
        ]),
        /block align is 3/,
      ],
      [
        riff([
          ["fmt ", fmtChunk({ channels: 2 })],
          ["data", new Uint8Array(6)],
        ]),
        /not a whole number of 4-byte frames/,
      ],
      [
        riff(
          [
            ["fmt ", fmtChunk({})],
            ["data", new Uint8Array(4)],
          ],
          -2,
        ),
        /"data" chunk declares 4 bytes but only 2 follow/,
      ],
    ];
    for (const [bytes, message] of cases) {
      expect(() => parseWav(bytes), String(message)).toThrow(InvalidWavError);
      expect(() => parseWav(bytes), String(message)).toThrow(message);
    }
  });
});
