/**
 * The check of an incoming `user_audio_chunk`: strict base64 of whole samples of the session's
 * format, within a size limit. Node's base64 decoder skips characters it does not know and accepts
 * missing padding, so the text is checked first; a refusal comes with a short reason that the
 * socket layer can send as the close reason (at most 123 bytes, plain ASCII).
 */

import type { AudioFormat } from "./audio-format.js";

/** The outcome of `AudioChunkDecoder.decode`: the decoded bytes, or why the chunk is refused. */
export type AudioChunkResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/** The longest close reason a WebSocket allows, in bytes (125 minus the 2-byte code). */
export const MAX_CLOSE_REASON_BYTES = 123;

// The standard alphabet (not base64url), then at most two '=' at the very end.
const BASE64_SHAPE = /^[A-Za-z0-9+/]*={0,2}$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Decodes a session's `user_audio_chunk`s for its `format`. Refuses text that is not canonical,
 * padded, standard base64 (no whitespace, no base64url), more than `maxBytes` decoded bytes
 * (checked before decoding), and a length that is not a whole number of samples (odd, for pcm);
 * an empty string is a valid, empty chunk. The bytes go into one buffer that the decoder reuses:
 * a chunk's bytes are valid until the next `decode`, so the caller copies what it keeps. A live
 * session decodes about 31 chunks a second; bytes of their own for each would be memory outside
 * V8's heap that only a garbage collection frees, and a high rate of it starts full collections
 * early (see docs/design-notes.md, "Memory outside the heap").
 */
export class AudioChunkDecoder {
  private scratch = Buffer.alloc(0);

  constructor(
    private readonly format: AudioFormat,
    private readonly maxBytes: number,
  ) {
    checkMaxBytes(maxBytes);
  }

  /** The chunk's bytes (a view of the reused buffer), or why it is refused. */
  decode(base64: string): AudioChunkResult {
    const checked = checkAudioChunk(this.format, base64, this.maxBytes);
    if (!checked.ok) return checked;
    if (this.scratch.length < checked.byteLength) {
      // Grown by doubling up to the limit, so a stream of equal chunks allocates once.
      this.scratch = Buffer.allocUnsafeSlow(
        Math.min(this.maxBytes, Math.max(checked.byteLength, 2 * this.scratch.length, 1024)),
      );
    }
    const written = this.scratch.write(base64, 0, "base64");
    return { ok: true, bytes: this.scratch.subarray(0, written) };
  }
}

/** The decoded length of a valid chunk, or why it is refused (see `AudioChunkDecoder`). */
function checkAudioChunk(
  format: AudioFormat,
  base64: string,
  maxBytes: number,
): { ok: true; byteLength: number } | { ok: false; reason: string } {
  checkMaxBytes(maxBytes);
  // Refuse an oversized text before scanning it: 4 characters carry 3 bytes.
  if (base64.length > Math.ceil(maxBytes / 3) * 4) return tooLarge(maxBytes);
  if (base64.length % 4 !== 0 || !BASE64_SHAPE.test(base64) || !hasZeroPadBits(base64)) {
    return { ok: false, reason: "user_audio_chunk is not valid base64 (bad character, length or padding)" };
  }
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  const byteLength = (base64.length / 4) * 3 - padding;
  if (byteLength > maxBytes) return tooLarge(maxBytes);
  if (byteLength % format.bytesPerSample !== 0) {
    return {
      ok: false,
      reason: `user_audio_chunk has ${byteLength} bytes; ${format.name} needs whole ${format.bytesPerSample}-byte samples`,
    };
  }
  return { ok: true, byteLength };
}

function checkMaxBytes(maxBytes: number): void {
  if (!Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(
      `maxBytes must be a whole number ≥ 0, got ${maxBytes}; pass the session's chunk limit.`,
    );
  }
}

function tooLarge(maxBytes: number): { ok: false; reason: string } {
  return { ok: false, reason: `user_audio_chunk is larger than the limit of ${maxBytes} bytes` };
}

/**
 * Whether the bits the padding leaves over in the last character are zero, as an encoder writes
 * them ("QQ==" is canonical, "QR==" decodes to the same byte but is not).
 */
function hasZeroPadBits(base64: string): boolean {
  if (base64.endsWith("==")) return (ALPHABET.indexOf(base64.charAt(base64.length - 3)) & 0x0f) === 0;
  if (base64.endsWith("=")) return (ALPHABET.indexOf(base64.charAt(base64.length - 2)) & 0x03) === 0;
  return true;
}
