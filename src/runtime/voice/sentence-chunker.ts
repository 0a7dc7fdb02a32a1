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

const TERMINATORS = ".!?…";
const CLOSERS = "\"')]}»”’";

/** Streams text in with `push`, and gets complete sentences out, trimmed and never empty. */
export class SentenceChunker {
  private buffer = "";

  /** Adds a piece of streamed text; returns the sentences it completed. */
  push(delta: string): string[] {
    this.buffer += delta;
    const sentences: string[] = [];
    for (;;) {
      const end = this.findEnd(false);
      if (end === undefined) break;
      this.take(end, sentences);
    }
    while (this.buffer.length > MAX_SENTENCE_CHARS) {
      const space = this.buffer.lastIndexOf(" ", MAX_SENTENCE_CHARS);
      this.take(space > 0 ? space + 1 : MAX_SENTENCE_CHARS, sentences);
    }
    return sentences;
  }

  /** Returns whatever is left (the end of the reply), split into sentences. */
  flush(): string[] {
    const sentences: string[] = [];
    for (;;) {
      const end = this.findEnd(true);
      if (end === undefined) break;
      this.take(end, sentences);
    }
    this.take(this.buffer.length, sentences);
    return sentences;
  }

  private take(end: number, into: string[]): void {
    const sentence = this.buffer.slice(0, end).trim();
    this.buffer = this.buffer.slice(end);
    if (sentence !== "") into.push(sentence);
  }

  /** The index just after the first complete sentence, or undefined when none is complete yet. */
  private findEnd(atEnd: boolean): number | undefined {
    const text = this.buffer;
    for (let i = 0; i < text.length; i++) {
      const char = text[i] as string;
      if (char === "\n") return i + 1;
      if (!TERMINATORS.includes(char)) continue;
      let j = i;
      while (j < text.length && TERMINATORS.includes(text[j] as string)) j++;
      while (j < text.length && CLOSERS.includes(text[j] as string)) j++;
      if (j === text.length) return undefined; // what follows decides; flush takes the rest whole
      if (!/\s/.test(text[j] as string)) {
        i = j - 1;
        continue;
      }
      const run = text.slice(i, j);
      if (run === ".") {
        const verdict = this.judgeFullStop(text, i, j, atEnd);
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

  /** Whether the single full stop at `dot` (followed by whitespace at `after`) ends a sentence. */
  private judgeFullStop(text: string, dot: number, after: number, atEnd: boolean): "yes" | "no" | "wait" {
    const before = text.slice(0, dot);
    const word = /(\S+)$/.exec(before)?.[1] ?? "";
    const bare = word.replace(/^["'([{«“‘]+/, "");
    if (bare.includes(".")) return "no"; // e.g. / i.e. / U.S.
    if (ABBREVIATIONS.has(bare.toLowerCase())) return "no";
    if (/^\p{L}$/u.test(bare)) return "no"; // an initial: "J. Smith"
    if (/^\d+$/.test(bare) && before.trim() === word) return "no"; // "1. First item"
    const next = /\S/.exec(text.slice(after));
    if (next === null) return atEnd ? "yes" : "wait";
    return /\p{Ll}/u.test(next[0]) ? "no" : "yes";
  }
}
