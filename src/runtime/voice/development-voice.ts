/**
 * The development voice: what the server hears and says when no speech recognition or
 * text-to-speech provider is configured, so voice sessions work offline. The user's speech becomes
 * a placeholder transcript giving its length, and the agent's text becomes a soft synthetic signal,
 * one upward chirp per word with silent gaps for spaces and punctuation, whose length follows the
 * text and whose alignment matches it exactly.
 */
import { type AudioAlignment, estimateAlignment } from "./alignment.js";

/**
 * Speech time per character: 65 ms, about 15 characters a second, the pace of a calm speaker
 * (roughly 150 words a minute at ~6 characters a word with its space).
 */
export const DEVELOPMENT_MS_PER_CHAR = 65;

/** The longest text spoken at once (about 2 min 10 s, 12.5 MB of samples at 48 kHz): speak a reply sentence by sentence. */
export const MAX_SPOKEN_CHARS = 2000;

/** Peak amplitude of the signal: about -16 dBFS, audible but soft. */
const AMPLITUDE = 0.16 * 32767;
/** Fade in and out of each word, so words do not click. */
const FADE_MS = 8;

/** The transcript standing in for `speechMs` of user speech, e.g. `[speech 1.4 s]`. */
export function placeholderTranscript(speechMs: number): string {
  const seconds = Math.max(0, speechMs) / 1000;
  return `[speech ${seconds.toFixed(1)} s]`;
}

/** Synthetic speech: 16-bit PCM samples at the requested rate, and the alignment of the text over them. */
export interface SynthesizedSpeech {
  samples: Int16Array;
  sampleRate: number;
  durationMs: number;
  alignment: AudioAlignment;
}

/** The length (ms) the development voice gives a text: `DEVELOPMENT_MS_PER_CHAR` per character. */
export function developmentSpeechMs(text: string): number {
  return Array.from(text).length * DEVELOPMENT_MS_PER_CHAR;
}

/**
 * Speaks `text` with the development voice at `sampleRate` (8000–48000 Hz): each run of letters
 * and digits is a chirp over exactly the time its characters have in `estimateAlignment`, so the
 * alignment sent with the audio matches what is heard. Each word's pitch differs a little, which
 * makes the words easy to tell apart by ear.
 */
export function synthesizeSpeech(text: string, sampleRate: number): SynthesizedSpeech {
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
    throw new RangeError(`Sample rate ${sampleRate} is not supported: use an integer from 8000 to 48000 Hz.`);
  }
  if (Array.from(text).length > MAX_SPOKEN_CHARS) {
    throw new RangeError(
      `A text of more than ${MAX_SPOKEN_CHARS} characters is too long to speak: split it into sentences.`,
    );
  }
  const durationMs = developmentSpeechMs(text);
  const alignment = estimateAlignment(text, durationMs);
  const samples = new Int16Array(Math.round((durationMs * sampleRate) / 1000));
  let word = 0;
  let i = 0;
  const { chars, char_start_times_ms: starts, char_durations_ms: durations } = alignment;
  while (i < chars.length) {
    if (!/^[\p{L}\p{N}]$/u.test(chars[i] ?? "")) {
      i++;
      continue;
    }
    let j = i;
    while (j < chars.length && /^[\p{L}\p{N}]$/u.test(chars[j] ?? "")) j++;
    const startMs = starts[i] ?? 0;
    const endMs = (starts[j - 1] ?? 0) + (durations[j - 1] ?? 0);
    writeChirp(samples, sampleRate, startMs, endMs, 180 + (word % 5) * 25);
    word++;
    i = j;
  }
  return { samples, sampleRate, durationMs, alignment };
}

/** Writes a chirp from `baseHz` up half an octave between two times, with short fades. */
function writeChirp(
  out: Int16Array,
  sampleRate: number,
  startMs: number,
  endMs: number,
  baseHz: number,
): void {
  const first = Math.round((startMs * sampleRate) / 1000);
  const last = Math.min(out.length, Math.round((endMs * sampleRate) / 1000));
  const count = last - first;
  if (count <= 0) return;
  const fade = Math.max(1, Math.min(Math.round((FADE_MS * sampleRate) / 1000), Math.floor(count / 2)));
  const seconds = count / sampleRate;
  // Linear chirp: f(t) = baseHz * (1 + 0.5 t / T); the phase is its integral.
  const sweep = (baseHz * 0.5) / seconds;
  for (let n = 0; n < count; n++) {
    const t = n / sampleRate;
    const phase = 2 * Math.PI * (baseHz * t + (sweep * t * t) / 2);
    const edge = Math.min(n, count - 1 - n);
    const envelope = edge < fade ? 0.5 - 0.5 * Math.cos((Math.PI * edge) / fade) : 1;
    out[first + n] = Math.round(AMPLITUDE * envelope * Math.sin(phase));
  }
}
