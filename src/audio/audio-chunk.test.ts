import { describe, expect, it } from "vitest";
import { AudioChunkDecoder, type AudioChunkResult, MAX_CLOSE_REASON_BYTES } from "./audio-chunk.js";
import { type AudioFormat, getAudioFormat } from "./audio-format.js";

const pcm = getAudioFormat("pcm_16000");
const ulaw = getAudioFormat("ulaw_8000");
const LIMIT = 64 * 1024;

/** One chunk through a decoder of its own. */
function decodeAudioChunk(format: AudioFormat, base64: string, maxBytes: number): AudioChunkResult {
  return new AudioChunkDecoder(format, maxBytes).decode(base64);
}

function reasonOf(result: AudioChunkResult): string {
  if (result.ok) throw new Error("expected the chunk to be refused");
  return result.reason;
}

describe("decodeAudioChunk", () => {
  it("decodes a valid chunk to its bytes", () => {
    const bytes = Uint8Array.from({ length: 1024 }, (_, i) => (i * 37) & 0xff);
    const result = decodeAudioChunk(pcm, Buffer.from(bytes).toString("base64"), LIMIT);
    expect(result.ok && Array.from(result.bytes)).toEqual(Array.from(bytes));
  });

  it("reuses one buffer for a session's chunks, each decoded whole over the last", () => {
    const decoder = new AudioChunkDecoder(pcm, LIMIT);
    const first = decoder.decode(Buffer.from([1, 2, 3, 4, 5, 6]).toString("base64"));
    const firstBuffer = first.ok ? first.bytes.buffer : undefined;
    const second = decoder.decode(Buffer.from([9, 8]).toString("base64"));
    expect(second.ok && Array.from(second.bytes)).toEqual([9, 8]);
    expect(second.ok && second.bytes.buffer).toBe(firstBuffer);
    const refused = decoder.decode("AQ=="); // one byte: not a whole pcm sample
    expect(refused.ok).toBe(false);
    const third = decoder.decode(Buffer.from([7, 7, 7, 7]).toString("base64"));
    expect(third.ok && Array.from(third.bytes)).toEqual([7, 7, 7, 7]);
  });

  it("grows its buffer for a longer chunk, up to the limit", () => {
    const decoder = new AudioChunkDecoder(pcm, 4096);
    const long = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
    expect(decoder.decode("AAA=").ok).toBe(true);
    const result = decoder.decode(Buffer.from(long).toString("base64"));
    expect(result.ok && Array.from(result.bytes)).toEqual(Array.from(long));
  });

  it("accepts each padding length when the sample size allows it", () => {
    const bytesOf = (result: AudioChunkResult) => (result.ok ? Array.from(result.bytes) : result.reason);
    expect(bytesOf(decodeAudioChunk(ulaw, "AQ==", LIMIT))).toEqual([1]);
    expect(bytesOf(decodeAudioChunk(pcm, "AQI=", LIMIT))).toEqual([1, 2]);
    expect(bytesOf(decodeAudioChunk(ulaw, "AQID", LIMIT))).toEqual([1, 2, 3]);
    expect(bytesOf(decodeAudioChunk(pcm, "", LIMIT))).toEqual([]);
  });

  it("refuses text that Buffer would decode leniently", () => {
    for (const text of [
      "AQID!AQI", // invalid character
      "AQ ID", // whitespace
      "AQID\n",
      "AQ", // missing padding
      "AQI", // missing padding
      "A===", // too much padding
      "AQ=D", // padding in the middle
      "=AQI",
      "AQ-_", // base64url
      "QR==", // non-zero bits after the last byte
      "AQJ=",
      "é+==",
    ]) {
      expect(reasonOf(decodeAudioChunk(ulaw, text, LIMIT)), text).toMatch(/not valid base64/);
    }
  });

  it("refuses a pcm chunk that is not a whole number of samples", () => {
    expect(reasonOf(decodeAudioChunk(pcm, "AQID", LIMIT))).toBe(
      "user_audio_chunk has 3 bytes; pcm_16000 needs whole 2-byte samples",
    );
  });

  it("refuses a chunk over the limit, before decoding it", () => {
    const text = Buffer.alloc(11).toString("base64");
    expect(decodeAudioChunk(ulaw, text, 11).ok).toBe(true);
    expect(reasonOf(decodeAudioChunk(ulaw, text, 10))).toBe(
      "user_audio_chunk is larger than the limit of 10 bytes",
    );
    // A long text is refused by its length alone, whatever it holds.
    expect(reasonOf(decodeAudioChunk(pcm, "!".repeat(10_000_000), LIMIT))).toMatch(/larger than the limit/);
  });

  it("keeps every reason short enough for a WebSocket close frame", () => {
    const reasons = [
      reasonOf(decodeAudioChunk(pcm, "%%%%", Number.MAX_SAFE_INTEGER)),
      reasonOf(decodeAudioChunk(pcm, `${"AAAA".repeat(1000)}AQID`, Number.MAX_SAFE_INTEGER)),
      reasonOf(decodeAudioChunk(getAudioFormat("pcm_44100"), "AQID", Number.MAX_SAFE_INTEGER)),
      reasonOf(decodeAudioChunk(pcm, "AAAA", 0)),
    ];
    for (const reason of reasons) {
      expect(Buffer.byteLength(reason, "utf8")).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
      expect(reason).toMatch(/^[\x20-\x7e]+$/);
    }
  });

  it("refuses a limit that is not a whole number", () => {
    expect(() => decodeAudioChunk(pcm, "", -1)).toThrow(RangeError);
    expect(() => decodeAudioChunk(pcm, "", 1.5)).toThrow(/maxBytes must be a whole number/);
  });
});
