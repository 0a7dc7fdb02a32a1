/**
 * WAV files of 16-bit PCM: `encodeWav` writes the plain 44-byte-header mono form that speech
 * recognisers accept, and `parseWav` reads one back with its header checked (chunks such as LIST
 * before `data` are skipped, several channels are mixed down to mono). Tests and fake ASR servers
 * use `parseWav` to check that what reached them is a valid WAV.
 */

/** Why bytes could not be read as a 16-bit PCM WAV file. */
export class InvalidWavError extends Error {
  override readonly name = "InvalidWavError";
}

/** A parsed WAV file: its sample rate, channel count as stored, and the samples mixed to mono. */
export interface ParsedWav {
  sampleRate: number;
  channels: number;
  samples: Int16Array;
}

/** The size of the header `encodeWav` writes (RIFF, `fmt ` and `data` chunk headers). */
export const WAV_HEADER_BYTES = 44;

/** The most channels `parseWav` accepts (WAVE_FORMAT_EXTENSIBLE's speaker mask has 18). */
export const MAX_WAV_CHANNELS = 18;

const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;
const MAX_RIFF_SIZE = 0xffffffff;

/** Writes mono 16-bit samples at `sampleRate` Hz as a RIFF/WAVE file with a 44-byte header. */
export function encodeWav(samples: Int16Array, sampleRate: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0xffffffff / 2) {
    throw new RangeError(`WAV sample rate must be a positive whole number of Hz, got ${sampleRate}.`);
  }
  const dataBytes = samples.length * 2;
  if (dataBytes + WAV_HEADER_BYTES - 8 > MAX_RIFF_SIZE) {
    throw new RangeError(`${samples.length} samples do not fit in one WAV file (4 GiB); split the audio.`);
  }
  const bytes = new Uint8Array(WAV_HEADER_BYTES + dataBytes);
  const view = new DataView(bytes.buffer);
  writeTag(bytes, 0, "RIFF");
  view.setUint32(4, WAV_HEADER_BYTES - 8 + dataBytes, true);
  writeTag(bytes, 8, "WAVE");
  writeTag(bytes, 12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  writeTag(bytes, 36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++)
    view.setInt16(WAV_HEADER_BYTES + 2 * i, samples[i] as number, true);
  return bytes;
}

/**
 * Reads a RIFF/WAVE file of 16-bit PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM
 * sub-format). Throws an InvalidWavError saying what is wrong when the header is not that.
 */
export function parseWav(bytes: Uint8Array): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || readTag(bytes, 0) !== "RIFF" || readTag(bytes, 8) !== "WAVE") {
    throw new InvalidWavError(
      'Not a WAV file: it does not start with "RIFF....WAVE"; send a RIFF/WAVE file.',
    );
  }
  const end = 8 + view.getUint32(4, true);
  if (end > bytes.length) {
    throw new InvalidWavError(
      `WAV file is truncated: the RIFF header declares ${end} bytes but there are ${bytes.length}; send the whole file.`,
    );
  }
  let fmt: { channels: number; sampleRate: number } | undefined;
  let offset = 12;
  while (offset + 8 <= end) {
    const id = readTag(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (body + size > end) {
      throw new InvalidWavError(
        `WAV ${JSON.stringify(id)} chunk declares ${size} bytes but only ${end - body} follow; send the whole file.`,
      );
    }
    if (id === "fmt ") fmt = parseFormatChunk(view, body, size);
    if (id === "data") {
      if (!fmt) throw new InvalidWavError('WAV "data" chunk comes before "fmt "; write the format first.');
      return { ...fmt, samples: readSamples(view, body, size, fmt.channels) };
    }
    offset = body + size + (size % 2); // chunks are padded to an even size
  }
  throw new InvalidWavError(
    fmt
      ? 'WAV file has no "data" chunk; it holds no audio.'
      : 'WAV file has no "fmt " chunk; add the format header.',
  );
}

function parseFormatChunk(
  view: DataView,
  at: number,
  size: number,
): { channels: number; sampleRate: number } {
  if (size < 16)
    throw new InvalidWavError(`WAV "fmt " chunk is ${size} bytes, less than 16; rewrite the header.`);
  const formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  const isPcm =
    formatTag === FORMAT_PCM ||
    // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID (at +24) starts with the format tag.
    (formatTag === FORMAT_EXTENSIBLE && size >= 40 && view.getUint16(at + 24, true) === FORMAT_PCM);
  if (!isPcm) {
    throw new InvalidWavError(`WAV audio format is ${formatTag}, not PCM (1); convert it to 16-bit PCM.`);
  }
  if (bits !== 16) throw new InvalidWavError(`WAV has ${bits}-bit samples; convert it to 16-bit PCM.`);
  if (channels < 1 || channels > MAX_WAV_CHANNELS) {
    throw new InvalidWavError(`WAV declares ${channels} channels; 1 to ${MAX_WAV_CHANNELS} are supported.`);
  }
  if (sampleRate === 0) throw new InvalidWavError("WAV declares a sample rate of 0 Hz; fix the header.");
  if (blockAlign !== channels * 2) {
    throw new InvalidWavError(
      `WAV block align is ${blockAlign}, but ${channels} channel(s) of 16 bits need ${channels * 2}; fix the header.`,
    );
  }
  return { channels, sampleRate };
}

/** Reads interleaved little-endian frames and averages each frame's channels into one sample. */
function readSamples(view: DataView, at: number, size: number, channels: number): Int16Array {
  const frameBytes = channels * 2;
  if (size % frameBytes !== 0) {
    throw new InvalidWavError(
      `WAV data is ${size} bytes, not a whole number of ${frameBytes}-byte frames; the file is cut mid-sample.`,
    );
  }
  const samples = new Int16Array(size / frameBytes);
  for (let i = 0; i < samples.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += view.getInt16(at + i * frameBytes + 2 * c, true);
    samples[i] = Math.round(sum / channels);
  }
  return samples;
}

function writeTag(bytes: Uint8Array, at: number, tag: string): void {
  for (let i = 0; i < 4; i++) bytes[at + i] = tag.charCodeAt(i);
}

function readTag(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}
