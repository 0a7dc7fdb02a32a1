/**
 * Ranking for message text search. A chunk's score:
 *
 *   score = coverage × mean over query words of (w × (1 + ln tf)) × lengthFactor + phraseBonus
 *
 * - tf: how often the word occurs in the chunk (case-insensitive substring, like list `search`);
 *   words that do not occur count 0, and a chunk where none occurs is not a hit;
 * - w: 1 when an occurrence stands as a whole word, 0.5 when it is only inside a longer word;
 * - coverage: the share of query words that occur;
 * - lengthFactor: 1 / (1 + ln(1 + characters / 200)), so a short, focused message beats a long one
 *   with the same matches;
 * - phraseBonus: 0.5 when a query of several words occurs as the exact phrase.
 * Scores are rounded to 6 decimals, so they compare equal across requests (the cursor relies on it).
 */

/** A part of a chunk, marked as a hit or not (`chunk_highlights`). */
export interface HighlightSegment {
  value: string;
  is_hit: boolean;
}

/** A query prepared for matching: its words as case-insensitive patterns. */
export interface PreparedQuery {
  words: RegExp[];
  /** Each word lower-cased when it is ASCII (null otherwise), for the fast path over ASCII text. */
  asciiWords: (string | null)[];
  phrase: RegExp | null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range starts at U+0000
const ASCII = /^[\u0000-\u007f]*$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** Prepares query words (as `tokenizeSearch` splits them) for matching. */
export function prepareQuery(words: readonly string[]): PreparedQuery {
  return {
    words: words.map((w) => new RegExp(escapeRegExp(w), "giu")),
    asciiWords: words.map((w) => (ASCII.test(w) ? w.toLowerCase() : null)),
    phrase: words.length > 1 ? new RegExp(words.map(escapeRegExp).join("\\s+"), "iu") : null,
  };
}

/** Whether an ASCII code is a word character (letter, digit or `_`), as WORD_CHAR says for ASCII. */
function isAsciiWordCode(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95
  );
}

/**
 * Occurrences of an ASCII word in lower-cased ASCII text, and whether one stands as a whole word.
 * For ASCII text and word this is exactly what the case-insensitive Unicode pattern finds (only
 * ASCII letters pair up), without allocating a match per occurrence.
 */
function countAscii(lower: string, word: string): { tf: number; whole: boolean } {
  let tf = 0;
  let whole = false;
  for (let at = lower.indexOf(word); at >= 0; at = lower.indexOf(word, at + word.length)) {
    tf++;
    if (!whole) {
      const end = at + word.length;
      whole =
        (at === 0 || !isAsciiWordCode(lower.charCodeAt(at - 1))) &&
        (end >= lower.length || !isAsciiWordCode(lower.charCodeAt(end)));
    }
  }
  return { tf, whole };
}

/** Scores a chunk against a query; 0 when no query word occurs in it. */
export function scoreChunk(text: string, query: PreparedQuery): number {
  let matched = 0;
  let sum = 0;
  const lower = ASCII.test(text) ? text.toLowerCase() : undefined;
  for (const [i, word] of query.words.entries()) {
    const asciiWord = query.asciiWords[i];
    if (lower !== undefined && asciiWord) {
      const { tf, whole } = countAscii(lower, asciiWord);
      if (tf === 0) continue;
      matched++;
      sum += (whole ? 1 : 0.5) * (1 + Math.log(tf));
      continue;
    }
    let tf = 0;
    let whole = false;
    for (const m of text.matchAll(word)) {
      tf++;
      const before = text[m.index - 1];
      const after = text[m.index + m[0].length];
      if (
        (before === undefined || !WORD_CHAR.test(before)) &&
        (after === undefined || !WORD_CHAR.test(after))
      ) {
        whole = true;
      }
    }
    if (tf === 0) continue;
    matched++;
    sum += (whole ? 1 : 0.5) * (1 + Math.log(tf));
  }
  if (matched === 0) return 0;
  const n = query.words.length;
  const lengthFactor = 1 / (1 + Math.log(1 + text.length / 200));
  const phraseBonus = query.phrase?.test(text) ? 0.5 : 0;
  return Math.round(((matched / n) * (sum / n) * lengthFactor + phraseBonus) * 1e6) / 1e6;
}

/** Splits a chunk into hit and non-hit segments (overlapping hits merged). */
export function highlightChunk(text: string, query: PreparedQuery): HighlightSegment[] {
  const ranges: [number, number][] = [];
  for (const word of query.words) {
    for (const m of text.matchAll(word)) {
      if (m[0].length > 0) ranges.push([m.index, m.index + m[0].length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const segments: HighlightSegment[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) segments.push({ value: text.slice(at, from), is_hit: false });
    const last = segments[segments.length - 1];
    if (last?.is_hit && from === at) last.value += text.slice(from, end);
    else segments.push({ value: text.slice(from, end), is_hit: true });
    at = end;
  }
  if (at < text.length) segments.push({ value: text.slice(at), is_hit: false });
  return segments;
}
