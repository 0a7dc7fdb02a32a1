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
 * Decodes `bytes` of `format` into samples (always a new array). Throws a RangeError when a pcm
 * input has an odd length: validate chunks at the edge first (`decodeAudioChunk`).
 */
export function decodeToPcm(format: AudioFormat, bytes: Uint8Array): Int16Array {
  if (format.encoding === "ulaw") return mulaw.decode(bytes);
  if (bytes.length % 2 !== 0) {
    throw new RangeError(
      `${format.name} audio has an odd length (${bytes.length} bytes); pass whole 2-byte samples.`,
    );
  }
  const samples = new Int16Array(bytes.length / 2);
  for (let i = 0; i < samples.length; i++) {
    const lo = bytes[2 * i] as number;
    const hi = bytes[2 * i + 1] as number;
    // (x << 16) >> 16 sign-extends the 16-bit value.
    samples[i] = (((hi << 8) | lo) << 16) >> 16;
  }
  return samples;
}

/** Encodes samples into the wire bytes of `format` (always a new array). */
export function encodeFromPcm(format: AudioFormat, samples: Int16Array): Uint8Array {
  if (format.encoding === "ulaw") return mulaw.encode(samples);
  const bytes = new Uint8Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    bytes[2 * i] = s & 0xff;
    bytes[2 * i + 1] = (s >> 8) & 0xff;
  }
  return bytes;
}
