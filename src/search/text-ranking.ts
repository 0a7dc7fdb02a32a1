import { foldForSearch } from "../domain/search-fold.js";

/**
 * Ranking for message text search. A chunk's score:
 *
 *   score = coverage × mean over query words of (w × (1 + ln tf)) × lengthFactor + phraseBonus
 *
 * - tf: how often the word occurs in the chunk (a substring once both are folded by `foldForSearch`,
 *   like list `search`);
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

/** A query prepared for matching: its words and phrase, folded for search. */
export interface PreparedQuery {
  /** The words as `tokenizeSearch` gives them: folded by `foldForSearch`. */
  words: string[];
  phrase: RegExp | null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** Prepares query words (as `tokenizeSearch` splits and folds them) for matching. */
export function prepareQuery(words: readonly string[]): PreparedQuery {
  const folded = words.map(foldForSearch);
  return {
    words: folded,
    phrase: folded.length > 1 ? new RegExp(folded.map(escapeRegExp).join("\\s+"), "u") : null,
  };
}

/** Whether the characters either side of [at, end) of the original text are no word characters. */
function standsAlone(text: string, at: number, end: number): boolean {
  const before = text[at - 1];
  const after = text[end];
  return (before === undefined || !WORD_CHAR.test(before)) && (after === undefined || !WORD_CHAR.test(after));
}

/**
 * Scores a chunk against a query; 0 when no query word occurs in it. Words are found in the
 * folded text, whose offsets are those of the original (the fold keeps lengths).
 */
export function scoreChunk(text: string, query: PreparedQuery): number {
  const folded = foldForSearch(text);
  let matched = 0;
  let sum = 0;
  for (const word of query.words) {
    let tf = 0;
    let whole = false;
    for (let at = folded.indexOf(word); at >= 0; at = folded.indexOf(word, at + word.length)) {
      tf++;
      if (!whole) whole = standsAlone(text, at, at + word.length);
    }
    if (tf === 0) continue;
    matched++;
    sum += (whole ? 1 : 0.5) * (1 + Math.log(tf));
  }
  if (matched === 0) return 0;
  const n = query.words.length;
  const lengthFactor = 1 / (1 + Math.log(1 + text.length / 200));
  const phraseBonus = query.phrase?.test(folded) ? 0.5 : 0;
  return Math.round(((matched / n) * (sum / n) * lengthFactor + phraseBonus) * 1e6) / 1e6;
}

/** Splits a chunk into hit and non-hit segments (overlapping hits merged). */
export function highlightChunk(text: string, query: PreparedQuery): HighlightSegment[] {
  const folded = foldForSearch(text);
  const ranges: [number, number][] = [];
  for (const word of query.words) {
    if (word.length === 0) continue;
    for (let at = folded.indexOf(word); at >= 0; at = folded.indexOf(word, at + word.length)) {
      ranges.push([at, at + word.length]);
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
