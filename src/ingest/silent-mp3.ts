/**
 * Valid MP3 audio made in code, for demo data: a run of MPEG-1 Layer III frames that encode
 * silence. Each frame is a 4-byte header and all-zero side information and main data, so every
 * granule declares no spectral data (part2_3_length = 0) and decoders output silence. No
 * encoder, no binary fixture, and the bytes are the same on every run.
 *
 * Format: MPEG-1 Layer III, 32 kbit/s constant bit rate, 32 kHz, mono, no CRC. At that bit rate
 * and sample rate a frame is exactly 144 bytes (144 × 32000 / 32000, never padded) and holds
 * 1152 samples, i.e. 36 ms; so one second of audio is about 4 KB.
 */

/** Sync word, MPEG-1, Layer III, no CRC | 32 kbit/s, 32 kHz, no padding | mono, original. */
export const SILENT_MP3_FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x18, 0xc4]);

/** Bytes per frame at 32 kbit/s and 32 kHz (MPEG-1 Layer III: 144 × bitrate / sample rate). */
export const SILENT_MP3_FRAME_BYTES = 144;

/** Seconds of audio per frame: 1152 samples at 32 kHz. */
export const SILENT_MP3_FRAME_SECS = 1152 / 32000;

/** Builds an MP3 of (at least) `seconds` of silence; at least one frame. */
export function buildSilentMp3(seconds: number): Buffer {
  const frames = Math.max(1, Math.ceil(seconds / SILENT_MP3_FRAME_SECS));
  const out = Buffer.alloc(frames * SILENT_MP3_FRAME_BYTES);
  for (let i = 0; i < frames; i++) SILENT_MP3_FRAME_HEADER.copy(out, i * SILENT_MP3_FRAME_BYTES);
  return out;
}
