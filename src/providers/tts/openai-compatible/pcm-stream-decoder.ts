import { ProviderError } from "../../provider-error.js";
import { readWavHeader, startsWithRiff } from "./wav-header.js";

/**
 * Turns the bytes of a `/audio/speech` answer into 16-bit samples as they arrive. The answer is
 * raw little-endian PCM at `pcmSampleRate`, unless it begins with a RIFF header: then the
 * header's rate is used and the header skipped (some servers answer WAV whatever is asked). A
 * sample split between two reads waits for its second byte; bytes after a WAV's declared data
 * (trailing chunks) are dropped. What it keeps of the bytes pushed is copied, never a view of them:
 * they may be views of a buffer the caller reuses, or of a much larger one (undici's body chunks
 * are views of the socket's reads), which a kept view would hold in memory.
 */
export class PcmStreamDecoder {
  /** Bytes not yet turned into samples: the start of the answer while it is being identified, or an odd byte. */
  private pending: Uint8Array = new Uint8Array(0);
  private identified = false;
  /** Sample bytes still expected when a WAV header declared them. */
  private remaining: number | undefined;
  private rate: number;

  constructor(pcmSampleRate: number) {
    this.rate = pcmSampleRate;
  }

  /** The samples' rate (known for sure once `push` returned samples). */
  get sampleRate(): number {
    return this.rate;
  }

  /** Takes the next bytes of the answer; returns the whole samples they complete (none: an empty array). */
  push(bytes: Uint8Array): Int16Array {
    let data: Uint8Array;
    if (this.identified) {
      // A carried odd byte was already counted against `remaining`: only the new bytes are.
      const fresh = this.takeDeclared(bytes);
      data = this.pending.byteLength === 0 ? fresh : concat(this.pending, fresh);
    } else {
      data = this.pending.byteLength === 0 ? bytes : concat(this.pending, bytes);
      if (data.byteLength < 4) {
        this.pending = data === bytes ? copy(bytes) : data;
        return new Int16Array(0);
      }
      if (startsWithRiff(data)) {
        const header = readWavHeader(data);
        if (!header) {
          this.pending = data === bytes ? copy(bytes) : data;
          return new Int16Array(0);
        }
        this.rate = header.sampleRate;
        this.remaining = header.dataBytes;
        data = this.takeDeclared(data.subarray(header.dataOffset));
      }
      this.identified = true;
    }
    this.pending = new Uint8Array(0);
    const whole = data.byteLength - (data.byteLength % 2);
    // Copied (see the class comment): `data` may be a view of the bytes pushed.
    if (whole < data.byteLength) this.pending = copy(data.subarray(whole));
    return toSamples(data.subarray(0, whole));
  }

  /**
   * The answer ended: returns the samples of an answer too short to identify (under 4 bytes),
   * refuses a WAV whose header never completed; an odd last byte is dropped.
   */
  finish(): Int16Array {
    if (this.identified) return new Int16Array(0);
    if (startsWithRiff(this.pending)) {
      throw new ProviderError(
        "The text-to-speech (TTS) provider's WAV answer ended inside its header: check the server's logs.",
        false,
      );
    }
    this.identified = true;
    return this.push(new Uint8Array(0));
  }
  /** The part of `bytes` within the WAV's declared data (all of it without a declared size), counted off. */
  private takeDeclared(bytes: Uint8Array): Uint8Array {
    if (this.remaining === undefined) return bytes;
    const taken = bytes.subarray(0, this.remaining);
    this.remaining -= taken.byteLength;
    return taken;
  }
}

/**
 * A copy of `bytes`. Not `bytes.slice()`: on a Node Buffer (what undici's chunks are) `slice` makes
 * a view, not a copy.
 */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** Little-endian 16-bit samples from an even number of bytes, whatever the host's byte order. */
function toSamples(bytes: Uint8Array): Int16Array {
  const samples = new Int16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  return samples;
}
