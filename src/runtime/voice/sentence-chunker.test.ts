import { describe, expect, it } from "vitest";
import { MAX_SENTENCE_CHARS, SentenceChunker } from "./sentence-chunker.js";

/** Streams `text` in pieces of `size` characters and returns every sentence in order, with the flush. */
function chunkAll(text: string, size = 3): string[] {
  const chunker = new SentenceChunker();
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...chunker.push(text.slice(i, i + size)));
  return [...out, ...chunker.flush()];
}

describe("SentenceChunker", () => {
  it("returns a sentence as soon as the next one begins", () => {
    const chunker = new SentenceChunker();
    expect(chunker.push("Hello there")).toEqual([]);
    expect(chunker.push("! How are")).toEqual(["Hello there!"]);
    expect(chunker.push(" you? I am")).toEqual(["How are you?"]);
    expect(chunker.push(" fine.")).toEqual([]);
    expect(chunker.flush()).toEqual(["I am fine."]);
    expect(chunker.flush()).toEqual([]);
  });

  it("ends at a newline at once, and at an ellipsis or a closing quote", () => {
    expect(new SentenceChunker().push("A list\nnext")).toEqual(["A list"]);
    expect(chunkAll('Well… I see. She said "Go!" Then left.')).toEqual([
      "Well…",
      "I see.",
      'She said "Go!"',
      "Then left.",
    ]);
  });

  it("does not split on decimals, abbreviations, initials, list numbers or a lower-case continuation", () => {
    expect(chunkAll("It costs 3.5 dollars, e.g. today. Dr. Smith agrees. Fine.")).toEqual([
      "It costs 3.5 dollars, e.g. today.",
      "Dr. Smith agrees.",
      "Fine.",
    ]);
    expect(chunkAll("J. R. R. Tolkien wrote it. Visit example.com now. It weighs approx. five kg.")).toEqual([
      "J. R. R. Tolkien wrote it.",
      "Visit example.com now.",
      "It weighs approx. five kg.",
    ]);
    expect(chunkAll("1. Open the app. Then wait.")).toEqual(["1. Open the app.", "Then wait."]);
    expect(chunkAll("The version is 2. the rest follows.")).toEqual(["The version is 2. the rest follows."]);
    expect(chunkAll("The answer is no. Set it to max. Done.")).toEqual([
      "The answer is no.",
      "Set it to max.",
      "Done.",
    ]);
  });

  it("waits for the next word before deciding on a full stop", () => {
    const chunker = new SentenceChunker();
    expect(chunker.push("See Dr. ")).toEqual([]);
    expect(chunker.push("Who. ")).toEqual([]);
    expect(chunker.push("Next")).toEqual(["See Dr. Who."]);
  });

  it("cuts an over-long text without an end at a space", () => {
    const words = "word ".repeat(200);
    const sentences = chunkAll(words, 50);
    expect(sentences.length).toBeGreaterThan(1);
    for (const sentence of sentences) expect(sentence.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
    expect(sentences.join(" ")).toBe(words.trim());
  });

  it("ends a sentence at a full stop followed by a newline without waiting for the next word", () => {
    const chunker = new SentenceChunker();
    expect(chunker.push("Hello.\n")).toEqual(["Hello."]);
    expect(chunker.push("Next")).toEqual([]);
    expect(new SentenceChunker().push("See Dr. \n")).toEqual(["See Dr."]);
  });

  it("cuts one huge delta of non-ending full stops into pieces of at most the limit, in bounded time", () => {
    const text = "e.g. ".repeat(40_000); // 200,000 characters, not one sentence end
    const chunker = new SentenceChunker();
    const started = performance.now();
    const pieces = chunker.push(text);
    const elapsedMs = performance.now() - started;
    // Every piece is cut at a space within the limit, as soon as the limit is passed.
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
      expect(piece.length).toBeGreaterThan(MAX_SENTENCE_CHARS - 10);
      expect(piece).toMatch(/^(e\.g\. )*e\.g\.$/);
    }
    const rest = chunker.flush();
    expect([...pieces, ...rest].join(" ")).toBe(text.trim());
    expect(rest.join(" ").length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
    expect(elapsedMs).toBeLessThan(2000); // a secondary guard: the scan was quadratic (about 30 s)
  });

  it("cuts a huge delta without spaces or of terminators at the limit", () => {
    for (const text of ["x".repeat(100_000), "!".repeat(100_000), `${".".repeat(99_999)}x`]) {
      const chunker = new SentenceChunker();
      const started = performance.now();
      const pieces = [...chunker.push(text), ...chunker.flush()];
      expect(performance.now() - started).toBeLessThan(2000);
      expect(pieces.join("")).toBe(text);
      for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
    }
  });
});
