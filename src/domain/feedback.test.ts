import { describe, expect, it } from "vitest";
import { applyFeedback } from "./feedback.js";

describe("applyFeedback", () => {
  it("sets what is sent, clears what is null, keeps the rest", () => {
    const stored = { overall_score: null, likes: 2, dislikes: 1 };
    expect(applyFeedback(stored, { feedback: "like" })).toEqual({
      overall_score: "like",
      likes: 2,
      dislikes: 1,
      type: "thumbs",
    });
    const rated = applyFeedback(stored, { rating: 4, comment: "ok" });
    expect(rated).toMatchObject({ rating: 4, comment: "ok", type: "rating", likes: 2 });
    expect(applyFeedback(rated, { comment: null })).toMatchObject({ rating: 4, comment: null });
    expect(applyFeedback(undefined, {})).toEqual({});
  });
});
