import { describe, expect, it } from "vitest";
import { highlightChunk, prepareQuery, scoreChunk } from "./text-ranking.js";
import { splitIntoChunks } from "./transcript-chunks.js";

describe("text ranking", () => {
  it("scores 0 without a hit, and more for whole words, more words, the phrase and shorter text", () => {
    const q = prepareQuery(["refund", "order"]);
    expect(scoreChunk("nothing here", q)).toBe(0);
    const both = scoreChunk("refund my order", q);
    const one = scoreChunk("refund my parcel", q);
    const inside = scoreChunk("refunded my parcel", q);
    const phrase = scoreChunk("a refund order", q);
    const long = scoreChunk(`refund my order ${"and more words ".repeat(40)}`, q);
    expect(both).toBeGreaterThan(one);
    expect(one).toBeGreaterThan(inside);
    expect(phrase).toBeGreaterThan(both);
    expect(both).toBeGreaterThan(long);
    expect(Number.isInteger(both * 1e6)).toBe(true);
  });

  it("matches case-insensitively beyond ASCII and treats regex characters literally", () => {
    expect(scoreChunk("ÜBER alles", prepareQuery(["über"]))).toBeGreaterThan(0);
    expect(scoreChunk("costs 5$ (net)", prepareQuery(["5$", "(net)"]))).toBeGreaterThan(0);
    expect(scoreChunk("axb", prepareQuery(["a.b"]))).toBe(0);
  });

  it("highlights hits, merging overlaps, and keeps the text whole", () => {
    const q = prepareQuery(["ab", "bc"]);
    const segments = highlightChunk("xabcx ab", q);
    expect(segments).toEqual([
      { value: "x", is_hit: false },
      { value: "abc", is_hit: true },
      { value: "x ", is_hit: false },
      { value: "ab", is_hit: true },
    ]);
    expect(segments.map((s) => s.value).join("")).toBe("xabcx ab");
  });

  it("splits long messages at spaces without breaking surrogate pairs", () => {
    const text = `${"word ".repeat(300)}${"😀".repeat(600)}`;
    const chunks = splitIntoChunks(text, 1000);
    expect(chunks.every((c) => c.length <= 1000)).toBe(true);
    expect(chunks.join("").replace(/\s/g, "")).toBe(text.replace(/\s/g, ""));
    for (const c of chunks) expect(c).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
  });
});
