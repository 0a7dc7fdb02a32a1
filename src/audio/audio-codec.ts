/**
 * Wire bytes to 16-bit PCM samples and back, for every session format. This is the one place that
 * knows the byte layout: pcm is little-endian whatever the host's byte order (the bytes are
 * assembled by hand, never viewed through an Int16Array), and μ-law goes through alawmulaw's
 * G.711 tables.
 */

// alawmulaw's CommonJS build assigns its exports inside a UMD wrapper, which Node's named-export
// detection cannot see: only the default import works at run time.
import alawmulaw from "alawmulaw";
import type { AudioFormat } from "./audio-format.js";

const { mulaw } = alawmulaw;

/**
 * Decodes `bytes` of `format` into samples: into `into` when it is given and long enough (the
 * result is then a view of it, which the caller reuses), else into a new array. Throws a
 * RangeError when a pcm input has an odd length: validate chunks at the edge first
 * (`decodeAudioChunk`).
 */
export function decodeToPcm(format: AudioFormat, bytes: Uint8Array, into?: Int16Array): Int16Array {
  if (format.encoding !== "ulaw" && bytes.length % 2 !== 0) {
    throw new RangeError(
      `${format.name} audio has an odd length (${bytes.length} bytes); pass whole 2-byte samples.`,
    );
  }
  const count = format.encoding === "ulaw" ? bytes.length : bytes.length / 2;
  const samples = into && into.length >= count ? into.subarray(0, count) : new Int16Array(count);
  if (format.encoding === "ulaw") {
    for (let i = 0; i < count; i++) samples[i] = mulaw.decodeSample(bytes[i] as number);
    return samples;
  }
  for (let i = 0; i < count; i++) {
    const lo = bytes[2 * i] as number;
    const hi = bytes[2 * i + 1] as number;
    // (x << 16) >> 16 sign-extends the 16-bit value.
    samples[i] = (((hi << 8) | lo) << 16) >> 16;
  }
  return samples;
}

/**
 * Encodes samples into the wire bytes of `format`: into `into` when it is given and long enough
 * (the result is then a view of it), else into a new array.
 */
export function encodeFromPcm(format: AudioFormat, samples: Int16Array, into?: Uint8Array): Uint8Array {
  const count = format.encoding === "ulaw" ? samples.length : samples.length * 2;
  const bytes = into && into.length >= count ? into.subarray(0, count) : new Uint8Array(count);
  if (format.encoding === "ulaw") {
    for (let i = 0; i < samples.length; i++) bytes[i] = mulaw.encodeSample(samples[i] as number);
    return bytes;
  }
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    bytes[2 * i] = s & 0xff;
    bytes[2 * i + 1] = (s >> 8) & 0xff;
  }
  return bytes;
}
