/**
 * Character alignment of agent speech: which character is heard when. It is sent on `audio`
 * events and lets an interruption say which part of a reply the user heard. The shape is the wire's
 * (`chars`, `char_start_times_ms`, `char_durations_ms`), kept snake_case end to end because it goes
 * onto the `audio` event as it is.
 */

/** An `audio` event's `alignment`: per character, its start and duration in ms from the chunk's start. */
export interface AudioAlignment {
  chars: string[];
  char_start_times_ms: number[];
  char_durations_ms: number[];
}

/** The longest text an alignment is estimated for (characters). */
export const MAX_ALIGNMENT_CHARS = 20_000;

/**
 * The relative time a character takes when estimating. Letters and digits carry the sound and
 * weigh 1; whitespace is a short join between words (0.4); other punctuation is silent but marks
 * a slight pause (0.6). These are rough: a text-to-speech voice slows and pauses in ways the text
 * does not show, so an estimate is good to a word or so, enough to cut a transcript.
 */
export function characterWeight(char: string): number {
  if (/^\s$/u.test(char)) return 0.4;
  if (/^[\p{L}\p{N}]$/u.test(char)) return 1;
  return 0.6;
}

/**
 * Estimates the alignment of `text` spoken over `durationMs` when the voice gives none: the
 * duration is shared in proportion to `characterWeight`, with integer ms whose durations add up
 * to exactly `Math.round(durationMs)`. Characters are code points, so an emoji stays whole.
 */
export function estimateAlignment(text: string, durationMs: number): AudioAlignment {
  const chars = Array.from(text);
  if (chars.length > MAX_ALIGNMENT_CHARS) {
    throw new RangeError(
      `A text of ${chars.length} characters is too long to align: split it into sentences first.`,
    );
  }
  if (!(Number.isFinite(durationMs) && durationMs >= 0)) {
    throw new RangeError(`Duration ${durationMs} ms is not valid: pass a finite number of ms, 0 or more.`);
  }
  const weights = chars.map(characterWeight);
  const total = weights.reduce((sum, w) => sum + w, 0);
  const starts: number[] = [];
  const durations: number[] = [];
  let cumulative = 0;
  let previous = 0;
  for (const weight of weights) {
    cumulative += weight;
    const boundary = Math.round((cumulative / total) * durationMs);
    starts.push(previous);
    durations.push(boundary - previous);
    previous = boundary;
  }
  return { chars, char_start_times_ms: starts, char_durations_ms: durations };
}

/**
 * Splits an alignment over consecutive audio chunks of the given durations: each character goes
 * to the chunk in which it starts, with its start made relative to that chunk (its duration is
 * kept even when it runs into the next chunk). Characters starting after the last chunk go to it.
 */
export function splitAlignment(
  alignment: AudioAlignment,
  chunkDurationsMs: readonly number[],
): AudioAlignment[] {
  const parts: AudioAlignment[] = chunkDurationsMs.map(() => ({
    chars: [],
    char_start_times_ms: [],
    char_durations_ms: [],
  }));
  if (parts.length === 0) return parts;
  let chunk = 0;
  let chunkStart = 0;
  alignment.chars.forEach((char, i) => {
    const start = alignment.char_start_times_ms[i] ?? 0;
    while (chunk < parts.length - 1 && start >= chunkStart + (chunkDurationsMs[chunk] ?? 0)) {
      chunkStart += chunkDurationsMs[chunk] ?? 0;
      chunk += 1;
    }
    const part = parts[chunk] as AudioAlignment;
    part.chars.push(char);
    part.char_start_times_ms.push(start - chunkStart);
    part.char_durations_ms.push(alignment.char_durations_ms[i] ?? 0);
  });
  return parts;
}

/** Returns the text an alignment spells. */
export function alignmentText(alignment: AudioAlignment): string {
  return alignment.chars.join("");
}
