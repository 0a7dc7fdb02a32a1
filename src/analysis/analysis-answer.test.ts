import { describe, expect, it } from "vitest";
import { checkAnalysisAnswer, InvalidAnswerError } from "./analysis-answer.js";
import type { AnalysisTask } from "./analysis-prompt.js";

const task: AnalysisTask = {
  overall: true,
  criteria: [{ id: "polite", conversation_goal_prompt: "Be polite." }],
  dataCollection: {
    city: { type: "string", description: "City", enum: ["Paris", "Rome"] },
    count: { type: "integer", description: "How many" },
  },
};

const good = {
  transcript_summary: "s",
  call_summary_title: "t",
  call_successful: "unknown",
  evaluation_criteria_results: { polite: { result: "success", rationale: "r" }, extra: { result: "x" } },
  data_collection_results: { city: { value: "Rome", rationale: "r" }, count: { value: null, rationale: "" } },
};

describe("checkAnalysisAnswer", () => {
  it("keeps what the task asked for, in the document's shape", () => {
    expect(checkAnalysisAnswer(good, task)).toEqual({
      transcriptSummary: "s",
      callSummaryTitle: "t",
      callSuccessful: "unknown",
      criteria: { polite: { criteria_id: "polite", result: "success", rationale: "r" } },
      data: {
        city: { data_collection_id: "city", value: "Rome", rationale: "r" },
        count: { data_collection_id: "count", value: null, rationale: "" },
      },
    });
  });

  it("refuses answers that do not fit", () => {
    const bad: unknown[] = [
      null,
      [],
      { ...good, transcript_summary: 3 },
      { ...good, evaluation_criteria_results: {} },
      { ...good, data_collection_results: { ...good.data_collection_results, city: { value: "Oslo" } } },
      { ...good, data_collection_results: { ...good.data_collection_results, count: { value: 1.5 } } },
    ];
    for (const answer of bad) expect(() => checkAnalysisAnswer(answer, task)).toThrow(InvalidAnswerError);
  });

  it("cuts over-long text instead of failing", () => {
    const answer = checkAnalysisAnswer({ ...good, call_summary_title: "x".repeat(1000) }, task);
    expect(answer.callSummaryTitle).toHaveLength(200);
  });
});
