import { describe, expect, it } from "vitest";
import { ProviderError } from "../../provider-error.js";
import { PcmStreamDecoder } from "./pcm-stream-decoder.js";

/** Little-endian bytes of the samples. */
function pcm(...samples: number[]): Uint8Array {
  const bytes = Buffer.alloc(samples.length * 2);
  for (const [index, sample] of samples.entries()) bytes.writeInt16LE(sample, index * 2);
  return new Uint8Array(bytes);
}

/** A WAV header of 16-bit PCM, with an optional LIST chunk before `data`. */
function wav(options: { rate: number; channels?: number; bits?: number; dataBytes: number; list?: boolean }) {
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "ascii");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(options.channels ?? 1, 10);
  fmt.writeUInt32LE(options.rate, 12);
  fmt.writeUInt32LE(options.rate * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(options.bits ?? 16, 22);
  const list = options.list ? Buffer.from("LIST\x03\x00\x00\x00abc\x00", "latin1") : Buffer.alloc(0);
  const data = Buffer.alloc(8);
  data.write("data", 0, "ascii");
  data.writeUInt32LE(options.dataBytes, 4);
  return new Uint8Array(Buffer.concat([Buffer.from("RIFF\x00\x00\x00\x00WAVE", "latin1"), fmt, list, data]));
}

/** Feeds the bytes one at a time and gathers the samples. */
function feedByteByByte(decoder: PcmStreamDecoder, bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (const byte of bytes) out.push(...decoder.push(Uint8Array.of(byte)));
  out.push(...decoder.finish());
  return out;
}

describe("PcmStreamDecoder", () => {
  it("decodes raw little-endian PCM fed one byte at a time, at the given rate", () => {
    const decoder = new PcmStreamDecoder(24_000);
    expect(feedByteByByte(decoder, pcm(1, -2, 32767, -32768, 258))).toEqual([1, -2, 32767, -32768, 258]);
    expect(decoder.sampleRate).toBe(24_000);
  });

  it("carries an odd byte to the next read", () => {
    const decoder = new PcmStreamDecoder(24_000);
    const bytes = pcm(1000, -1000, 7, 8, -9);
    // The first 4 bytes are needed to tell raw PCM from a RIFF header; after that, reads go straight through.
    expect([...decoder.push(bytes.subarray(0, 5))]).toEqual([1000, -1000]);
    expect([...decoder.push(bytes.subarray(5, 6))]).toEqual([7]);
    expect([...decoder.push(bytes.subarray(6, 9))]).toEqual([8]);
    expect([...decoder.push(bytes.subarray(9))]).toEqual([-9]);
    expect([...decoder.finish()]).toEqual([]);
  });

  it("keeps copies of what it holds back: a Buffer pushed and then overwritten changes nothing", () => {
    // undici's body chunks are Buffers, whose `slice` is a view: a kept view would see the overwrite.
    const decoder = new PcmStreamDecoder(24_000);
    const bytes = Buffer.from(pcm(1000, -1000, 7, 8, 9));
    const read = Buffer.alloc(8);
    /** Pushes bytes [from, to) through the one reused buffer, as a reader reusing its buffer would. */
    const push = (from: number, to: number) => {
      read.fill(0xff);
      bytes.copy(read, 0, from, to);
      return [...decoder.push(read.subarray(0, to - from))];
    };
    // Too short to tell PCM from RIFF: held back whole.
    expect(push(0, 3)).toEqual([]);
    expect(push(3, 8)).toEqual([1000, -1000, 7, 8]);
    // An odd byte on its own: held back.
    expect(push(8, 9)).toEqual([]);
    expect(push(9, 10)).toEqual([9]);
    expect([...decoder.finish()]).toEqual([]);
  });

  it("reads a WAV header split across reads, skips a LIST chunk and takes the header's rate", () => {
    const decoder = new PcmStreamDecoder(24_000);
    const bytes = Buffer.concat([wav({ rate: 16_000, dataBytes: 0xffffffff, list: true }), pcm(5, -5, 9)]);
    expect(feedByteByByte(decoder, bytes)).toEqual([5, -5, 9]);
    expect(decoder.sampleRate).toBe(16_000);
  });

  it("stops at the declared data size (a trailing chunk is not audio)", () => {
    const decoder = new PcmStreamDecoder(24_000);
    const bytes = Buffer.concat([wav({ rate: 22_050, dataBytes: 4 }), pcm(3, 4), Buffer.from("id3 junk")]);
    expect([...decoder.push(bytes)]).toEqual([3, 4]);
  });

  it("keeps every declared sample when the WAV is read in odd-sized pieces (7 bytes, 1 byte, 1001 bytes)", () => {
    const samples = Array.from({ length: 1000 }, (_, index) => index + 1);
    const bytes = Buffer.concat([
      wav({ rate: 16_000, dataBytes: 2000 }),
      pcm(...samples),
      Buffer.from("id3 junk"),
    ]);
    for (const size of [7, 1, 1001]) {
      const decoder = new PcmStreamDecoder(24_000);
      const out: number[] = [];
      for (let at = 0; at < bytes.byteLength; at += size)
        out.push(...decoder.push(bytes.subarray(at, at + size)));
      out.push(...decoder.finish());
      expect(out).toEqual(samples);
    }
  });

  it("refuses stereo, 8-bit and a WAV that ends inside its header", () => {
    expect(() => new PcmStreamDecoder(24_000).push(wav({ rate: 16_000, channels: 2, dataBytes: 0 }))).toThrow(
      "2 channels",
    );
    expect(() => new PcmStreamDecoder(24_000).push(wav({ rate: 16_000, bits: 8, dataBytes: 0 }))).toThrow(
      "not 16-bit PCM",
    );
    const decoder = new PcmStreamDecoder(24_000);
    decoder.push(wav({ rate: 16_000, dataBytes: 0 }).subarray(0, 20));
    expect(() => decoder.finish()).toThrow(ProviderError);
  });
});
