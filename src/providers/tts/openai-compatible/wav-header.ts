import { ProviderError } from "../../provider-error.js";

/** What a WAV header says about the samples after it. */
export interface WavHeader {
  sampleRate: number;
  /** Where the samples start in the bytes read. */
  dataOffset: number;
  /** How many sample bytes follow; undefined when the header does not say (a streamed WAV writes 0 or 0xFFFFFFFF). */
  dataBytes: number | undefined;
}

/** Most bytes a WAV header may take before its samples (a LIST chunk of tags included). */
export const MAX_WAV_HEADER_BYTES = 64 * 1024;

/** Whether the bytes begin as a RIFF file does (4 bytes are enough to tell). */
export function startsWithRiff(bytes: Uint8Array): boolean {
  return bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46;
}

/**
 * Reads a RIFF/WAVE header from the first bytes of an answer: `undefined` while more bytes are
 * needed, else the header of 16-bit mono PCM. Another layout (stereo, 8/24/32-bit, float,
 * compressed) or a header over MAX_WAV_HEADER_BYTES is a ProviderError saying what to ask for.
 */
export function readWavHeader(bytes: Uint8Array): WavHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12) return undefined;
  if (ascii(bytes, 8) !== "WAVE") throw malformed("it is a RIFF file but not WAVE");
  let format: { sampleRate: number } | undefined;
  let at = 12;
  for (;;) {
    if (at > MAX_WAV_HEADER_BYTES) throw malformed(`its header is longer than ${MAX_WAV_HEADER_BYTES} bytes`);
    if (bytes.byteLength < at + 8) return undefined;
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    if (id === "data") {
      if (!format) throw malformed("its samples come before their format (`fmt ` chunk)");
      const unknown = size === 0 || size >= 0xfffffff0;
      return { sampleRate: format.sampleRate, dataOffset: at + 8, dataBytes: unknown ? undefined : size };
    }
    if (id === "fmt ") {
      if (bytes.byteLength < at + 8 + 16) return undefined;
      format = readFormat(view, at + 8);
    }
    // Chunks are padded to an even size.
    at += 8 + size + (size % 2);
  }
}

function readFormat(view: DataView, at: number): { sampleRate: number } {
  const tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const bits = view.getUint16(at + 14, true);
  // 1 is PCM; 0xFFFE (extensible) is taken as PCM when the bit depth is 16.
  if ((tag !== 1 && tag !== 0xfffe) || bits !== 16) throw malformed(`its samples are not 16-bit PCM`);
  if (channels !== 1) throw malformed(`it has ${channels} channels, not one`);
  if (sampleRate < 1000 || sampleRate > 384_000)
    throw malformed(`its sample rate ${sampleRate} is implausible`);
  return { sampleRate };
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

function malformed(problem: string): ProviderError {
  return new ProviderError(
    `The text-to-speech (TTS) provider answered a WAV file that cannot be played: ${problem}. Ask for 16-bit mono: set OPENCONVAI_TTS_RESPONSE_FORMAT=pcm if the server supports it.`,
    false,
  );
}
