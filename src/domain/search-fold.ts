/**
 * Case folding for search, the same on every backend: the search text is stored folded, and
 * queries are folded the same way before they reach a database, so SQLite (whose LIKE folds
 * ASCII only) and PostgreSQL (whose ILIKE folds by the database's locale) find the same
 * conversations, and message ranking and highlights agree with both.
 *
 * The fold is Unicode's simple case folding (every cased letter in every script; `ſ` is `s`, the
 * Kelvin sign is `k`, the Greek final `ς` is `σ`), with one change for Turkish: `I`, `ı`, `İ` and
 * `i` are one letter, so a search matches whichever convention the text was written in. `ß` and
 * `ẞ` are one letter; `ss` does not match them (simple folding keeps lengths, as PostgreSQL's
 * ILIKE does). Accents are kept: `école` is not `ecole`.
 *
 * The fold keeps the length in UTF-16 code units, so an offset in the folded text is the same
 * offset in the original: highlights are cut from the original text.
 */
export function foldForSearch(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range starts at U+0000
  if (/^[\u0000-\u0040\u005b-\u007f]*$/.test(text)) return text;
  // İ lower-cases to two code units (i + U+0307): it is mapped first, with ı, so nothing grows.
  const folded = text
    .replace(/[\u0130\u0131]/g, "i")
    .toLowerCase()
    .replace(FOLD_AFTER_LOWER, (ch) => FOLD_AFTER_LOWER_MAP[ch] ?? ch);
  return folded.length === text.length ? folded : foldByCodePoint(text);
}

/** Lower-case letters whose simple case folding is another letter. */
const FOLD_AFTER_LOWER_MAP: Record<string, string> = {
  "\u017f": "s", // ſ
  "\u0345": "\u03b9", // combining ypogegrammeni
  "\u03c2": "\u03c3", // ς
  "\u03d0": "\u03b2", // ϐ
  "\u03d1": "\u03b8", // ϑ
  "\u03d5": "\u03c6", // ϕ
  "\u03d6": "\u03c0", // ϖ
  "\u03f0": "\u03ba", // ϰ
  "\u03f1": "\u03c1", // ϱ
  "\u03f5": "\u03b5", // ϵ
  "\u1e9b": "\u1e61", // ẛ
  "\u1fbe": "\u03b9", // ι
};
const FOLD_AFTER_LOWER = new RegExp(`[${Object.keys(FOLD_AFTER_LOWER_MAP).join("")}]`, "g");

/** The same fold, one code point at a time, keeping any letter whose lower case would grow. */
function foldByCodePoint(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch === "\u0130" || ch === "\u0131") {
      out += "i";
      continue;
    }
    const lower = ch.toLowerCase();
    const kept = lower.length === ch.length ? lower : ch;
    out += FOLD_AFTER_LOWER_MAP[kept] ?? kept;
  }
  return out;
}
