/**
 * The audio formats of a live session, as the agent protocol names them (`pcm_16000`, `ulaw_8000`,
 * …). The session's metadata message fixes one format for both directions; everything past the
 * socket edge carries a parsed `AudioFormat` beside its bytes, so no other module parses names or
 * guesses sample sizes.
 *
 * `pcm_*`: raw 16-bit signed little-endian mono, no header. `ulaw_8000`: one G.711 μ-law byte per
 * sample at 8 kHz.
 */

/** A format name the protocol accepts. */
export type AudioFormatName =
  | "pcm_8000"
  | "pcm_16000"
  | "pcm_22050"
  | "pcm_24000"
  | "pcm_44100"
  | "pcm_48000"
  | "ulaw_8000";

/** How the bytes of a format hold their samples. */
export type AudioEncoding = "pcm" | "ulaw";

/** A session audio format: its wire name, encoding, sample rate (Hz) and bytes per (mono) sample. */
export interface AudioFormat {
  readonly name: AudioFormatName;
  readonly encoding: AudioEncoding;
  readonly sampleRate: number;
  readonly bytesPerSample: 1 | 2;
}

function pcm(name: AudioFormatName, sampleRate: number): AudioFormat {
  return Object.freeze({ name, encoding: "pcm", sampleRate, bytesPerSample: 2 });
}

/** Every format a session may use, in the protocol's order. */
export const SUPPORTED_AUDIO_FORMATS: readonly AudioFormat[] = Object.freeze([
  pcm("pcm_8000", 8000),
  pcm("pcm_16000", 16000),
  pcm("pcm_22050", 22050),
  pcm("pcm_24000", 24000),
  pcm("pcm_44100", 44100),
  pcm("pcm_48000", 48000),
  Object.freeze({ name: "ulaw_8000", encoding: "ulaw", sampleRate: 8000, bytesPerSample: 1 } as const),
]);

// A Map, not an object lookup: a name like "constructor" or "__proto__" must not find anything.
const BY_NAME: ReadonlyMap<string, AudioFormat> = new Map(SUPPORTED_AUDIO_FORMATS.map((f) => [f.name, f]));

/**
 * The format a wire name stands for, or undefined when the name is not one of the seven supported
 * formats (case-sensitive: the protocol's names are lower case). Unlike the official client, other
 * `pcm_<rate>` names are refused: the server only promises the rates it lists.
 */
export function parseAudioFormat(name: string): AudioFormat | undefined {
  return BY_NAME.get(name);
}

/** The format of a name known at compile time (a default, a test), without the undefined case. */
export function getAudioFormat(name: AudioFormatName): AudioFormat {
  const format = BY_NAME.get(name);
  if (!format) throw new Error(`Unknown audio format ${name}; use one of SUPPORTED_AUDIO_FORMATS.`);
  return format;
}

/**
 * How long `byteLength` bytes of `format` play, in milliseconds (fractional; a trailing partial
 * sample is not counted).
 */
export function durationMs(format: AudioFormat, byteLength: number): number {
  if (!Number.isFinite(byteLength) || byteLength < 0) {
    throw new RangeError(`byteLength must be a finite number ≥ 0, got ${byteLength}; pass a byte count.`);
  }
  return (Math.floor(byteLength / format.bytesPerSample) * 1000) / format.sampleRate;
}

/**
 * How many bytes hold `ms` milliseconds of `format`: always a whole number of samples (the sample
 * count is rounded to the nearest), so a chunk cut at that size never splits a sample.
 */
export function bytesForMs(format: AudioFormat, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`ms must be a finite number ≥ 0, got ${ms}; pass a duration in milliseconds.`);
  }
  return Math.round((ms * format.sampleRate) / 1000) * format.bytesPerSample;
}
