import { describe, expect, it } from "vitest";
import { alignmentText, characterWeight, estimateAlignment, splitAlignment } from "./alignment.js";

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("estimateAlignment", () => {
  it("shares the duration so that the durations add up to it exactly, without gaps", () => {
    for (const [text, duration] of [
      ["Hello, world! How are you today?", 2345],
      ["a", 65],
      ["Numbers 3.5 and 42; fine.", 1999.6],
    ] as const) {
      const alignment = estimateAlignment(text, duration);
      expect(sum(alignment.char_durations_ms)).toBe(Math.round(duration));
      expect(alignmentText(alignment)).toBe(text);
      alignment.char_start_times_ms.forEach((start, i) => {
        if (i > 0) {
          const prev =
            (alignment.char_start_times_ms[i - 1] ?? 0) + (alignment.char_durations_ms[i - 1] ?? 0);
          expect(start).toBe(prev);
        }
      });
      expect(alignment.char_start_times_ms[0]).toBe(0);
    }
  });

  it("gives letters more time than spaces and punctuation", () => {
    const alignment = estimateAlignment("ab, cd", 1000);
    const [a, b, comma, space] = alignment.char_durations_ms;
    expect(a).toBe(b);
    expect(space as number).toBeLessThan(comma as number);
    expect(comma as number).toBeLessThan(a as number);
    expect(characterWeight("é")).toBe(1);
    expect(characterWeight("7")).toBe(1);
  });

  it("keeps an emoji as one character and handles empty text", () => {
    expect(estimateAlignment("hi 👋", 500).chars).toEqual(["h", "i", " ", "👋"]);
    expect(estimateAlignment("", 500)).toEqual({ chars: [], char_start_times_ms: [], char_durations_ms: [] });
  });

  it("rejects a bad duration or an over-long text with a clear message", () => {
    expect(() => estimateAlignment("a", Number.NaN)).toThrow(/finite number/);
    expect(() => estimateAlignment("a".repeat(20_001), 1000)).toThrow(/split it into sentences/);
  });
});

describe("splitAlignment", () => {
  it("puts each character in the chunk it starts in, with chunk-relative times", () => {
    const alignment = {
      chars: ["a", "b", "c", "d", "e"],
      char_start_times_ms: [0, 100, 200, 300, 400],
      char_durations_ms: [100, 100, 100, 100, 100],
    };
    const parts = splitAlignment(alignment, [250, 250]);
    expect(parts[0]).toEqual({
      chars: ["a", "b", "c"],
      char_start_times_ms: [0, 100, 200],
      char_durations_ms: [100, 100, 100],
    });
    expect(parts[1]).toEqual({
      chars: ["d", "e"],
      char_start_times_ms: [50, 150],
      char_durations_ms: [100, 100],
    });
  });

  it("loses no character, skips empty chunks and sends late characters to the last chunk", () => {
    const alignment = estimateAlignment("The quick brown fox.", 1300);
    const parts = splitAlignment(alignment, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
    expect(parts.map(alignmentText).join("")).toBe("The quick brown fox.");
    for (const part of parts) {
      for (const start of part.char_start_times_ms) expect(start).toBeGreaterThanOrEqual(0);
    }
    expect(splitAlignment(alignment, [])).toEqual([]);
    const short = splitAlignment(alignment, [200]);
    expect(alignmentText(short[0] ?? { chars: [], char_start_times_ms: [], char_durations_ms: [] })).toBe(
      "The quick brown fox.",
    );
  });
});
