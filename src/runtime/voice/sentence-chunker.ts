/**
 * Cuts a model's streamed reply into sentences as soon as each one is complete, so speech can
 * start with the first sentence instead of waiting for the whole reply.
 *
 * A sentence ends at a newline, or at `.`, `!`, `?` or `…` (a run of them, with any closing quotes
 * or brackets) followed by whitespace. A full stop is not an end when the word before it is an
 * abbreviation ("e.g.", "Dr.", "approx."), a single letter (an initial), a bare number opening the
 * sentence (a list item: "1. "), or when the next word starts with a lower-case letter. "3.5" and
 * "example.com" never split, because no whitespace follows the dot. Hence a full stop decides only
 * once the next non-space character has arrived (or at `flush`).
 */

/**
 * Words that take a full stop without ending a sentence (lower case, without the final dot). Short
 * words that also end sentences in speech ("no", "max") are left out on purpose.
 */
const ABBREVIATIONS = new Set([
  "mr",
  "mrs",
  "ms",
  "dr",
  "prof",
  "sr",
  "jr",
  "st",
  "vs",
  "approx",
  "inc",
  "ltd",
  "nr",
  "fig",
  "vol",
  "ca",
  "cf",
  "dept",
  "mt",
  "jan",
  "feb",
  "mar",
  "apr",
  "jun",
  "jul",
  "aug",
  "sep",
  "sept",
  "oct",
  "nov",
  "dec",
]);

/** The longest text kept waiting for a sentence end; past it, the text is cut at its last space. */
export const MAX_SENTENCE_CHARS = 600;

/**
 * How far back from a full stop its word is looked for. Together with the scan stopping at
 * MAX_SENTENCE_CHARS, this keeps the work per character bounded, whatever the size of a delta.
 */
const LOOK_BACK_CHARS = 64;

const TERMINATORS = ".!?…";
const CLOSERS = "\"')]}»”’";

/** Streams text in with `push`, and gets complete sentences out, trimmed and never empty. */
export class SentenceChunker {
  private buffer = "";

  /** Adds a piece of streamed text; returns the sentences it completed. */
  push(delta: string): string[] {
    this.buffer += delta;
    return this.drain(false);
  }

  /** Returns whatever is left (the end of the reply), split into sentences. */
  flush(): string[] {
    const sentences = this.drain(true);
    const rest = this.buffer.trim();
    this.buffer = "";
    if (rest !== "") sentences.push(rest);
    return sentences;
  }

  /**
   * Takes every complete sentence off the buffer, and cuts text that has gone MAX_SENTENCE_CHARS
   * without an end at its last space (or at the limit when it has none). The buffer is sliced
   * once at the end, so a large delta is not copied once per sentence.
   */
  private drain(atEnd: boolean): string[] {
    const text = this.buffer;
    const sentences: string[] = [];
    let start = 0;
    for (;;) {
      let end = this.findEnd(text, start, atEnd);
      if (end === undefined) {
        if (text.length - start <= MAX_SENTENCE_CHARS) break;
        const space = text.slice(start, start + MAX_SENTENCE_CHARS + 1).lastIndexOf(" ");
        end = start + (space > 0 ? space + 1 : MAX_SENTENCE_CHARS);
      }
      const sentence = text.slice(start, end).trim();
      if (sentence !== "") sentences.push(sentence);
      start = end;
    }
    this.buffer = text.slice(start);
    return sentences;
  }

  /**
   * The index just after the first complete sentence from `start`, or undefined when none is
   * complete yet or none ends within MAX_SENTENCE_CHARS (the caller then cuts).
   */
  private findEnd(text: string, start: number, atEnd: boolean): number | undefined {
    const stop = Math.min(text.length, start + MAX_SENTENCE_CHARS);
    // A run of terminators and closers is followed at most a little past the window.
    const runLimit = Math.min(text.length, stop + LOOK_BACK_CHARS);
    for (let i = start; i < stop; i++) {
      const char = text[i] as string;
      if (char === "\n") return i + 1;
      if (!TERMINATORS.includes(char)) continue;
      let j = i;
      while (j < runLimit && TERMINATORS.includes(text[j] as string)) j++;
      while (j < runLimit && CLOSERS.includes(text[j] as string)) j++;
      if (j === text.length) return undefined; // what follows decides; flush takes the rest whole
      if (j === runLimit) return undefined; // a run past the window: the caller cuts
      if (!/\s/.test(text[j] as string)) {
        i = j - 1;
        continue;
      }
      if (j - i === 1 && char === ".") {
        const verdict = judgeFullStop(text, start, i, j, atEnd);
        if (verdict === "wait") return undefined;
        if (verdict === "no") {
          i = j - 1;
          continue;
        }
      }
      return j;
    }
    return undefined;
  }
}

/**
 * Whether the single full stop at `dot` (followed by whitespace at `after`) ends the sentence
 * that began at `start`. Only the LOOK_BACK_CHARS before the dot are read for its word.
 */
function judgeFullStop(
  text: string,
  start: number,
  dot: number,
  after: number,
  atEnd: boolean,
): "yes" | "no" | "wait" {
  const from = Math.max(start, dot - LOOK_BACK_CHARS);
  const before = text.slice(from, dot);
  const word = /(\S+)$/.exec(before)?.[1] ?? "";
  const bare = word.replace(/^["'([{«“‘]+/, "");
  if (bare.includes(".")) return "no"; // e.g. / i.e. / U.S.
  if (ABBREVIATIONS.has(bare.toLowerCase())) return "no";
  if (/^\p{L}$/u.test(bare)) return "no"; // an initial: "J. Smith"
  if (/^\d+$/.test(bare) && from === start && before.trim() === word) return "no"; // "1. First item"
  // The next non-space character decides; a newline on the way ends the sentence anyway.
  const limit = Math.min(text.length, after + LOOK_BACK_CHARS);
  let next = after;
  while (next < limit && /\s/.test(text[next] as string) && text[next] !== "\n") next++;
  if (next < text.length && text[next] === "\n") return "yes";
  if (next === limit) return next === text.length && !atEnd ? "wait" : "yes";
  return /\p{Ll}/u.test(text[next] as string) ? "no" : "yes";
}
