import type { AnalysisTask } from "./analysis-prompt.js";

/** An evaluation result as the document stores it (ConversationHistoryEvaluationCriteriaResultCommonModel). */
export interface CriterionResult {
  criteria_id: string;
  result: "success" | "failure" | "unknown";
  rationale: string;
}

/** A data-collection result as the document stores it (DataCollectionResultCommonModel). */
export interface DataResult {
  data_collection_id: string;
  value: string | number | boolean | null;
  rationale: string;
}

/** The model's answer, checked. */
export interface AnalysisAnswer {
  transcriptSummary?: string;
  callSummaryTitle?: string;
  callSuccessful?: "success" | "failure" | "unknown";
  criteria: Record<string, CriterionResult>;
  data: Record<string, DataResult>;
}

/** The model answered something that does not fit the task; `problem` says what. */
export class InvalidAnswerError extends Error {
  constructor(readonly problem: string) {
    super(`The model's analysis does not fit the expected shape: ${problem}`);
    this.name = "InvalidAnswerError";
  }
}

const LIMITS = { summary: 4000, title: 200, rationale: 2000, value: 2000 } as const;
const RESULTS = new Set(["success", "failure", "unknown"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function text(value: unknown, where: string, max: number): string {
  if (typeof value !== "string") throw new InvalidAnswerError(`${where} must be a string`);
  // Long text is cut rather than refused: the rest of the answer is still good.
  return value.length > max ? value.slice(0, max) : value;
}

function verdict(value: unknown, where: string): "success" | "failure" | "unknown" {
  if (typeof value !== "string" || !RESULTS.has(value)) {
    throw new InvalidAnswerError(`${where} must be one of success, failure, unknown`);
  }
  return value as "success" | "failure" | "unknown";
}

/** Checks the model's answer against the task; throws InvalidAnswerError when it does not fit. */
export function checkAnalysisAnswer(answer: unknown, task: AnalysisTask): AnalysisAnswer {
  if (!isRecord(answer)) throw new InvalidAnswerError("the answer must be a JSON object");
  const out: AnalysisAnswer = { criteria: {}, data: {} };
  if (task.overall) {
    out.transcriptSummary = text(answer.transcript_summary, "transcript_summary", LIMITS.summary);
    out.callSummaryTitle = text(answer.call_summary_title, "call_summary_title", LIMITS.title);
    out.callSuccessful = verdict(answer.call_successful, "call_successful");
  }
  const criteria = answer.evaluation_criteria_results ?? {};
  if (!isRecord(criteria)) throw new InvalidAnswerError("evaluation_criteria_results must be an object");
  for (const criterion of task.criteria) {
    const result = criteria[criterion.id];
    if (!isRecord(result))
      throw new InvalidAnswerError(`evaluation_criteria_results.${criterion.id} is missing`);
    out.criteria[criterion.id] = {
      criteria_id: criterion.id,
      result: verdict(result.result, `evaluation_criteria_results.${criterion.id}.result`),
      rationale: text(
        result.rationale ?? "",
        `evaluation_criteria_results.${criterion.id}.rationale`,
        LIMITS.rationale,
      ),
    };
  }
  const data = answer.data_collection_results ?? {};
  if (!isRecord(data)) throw new InvalidAnswerError("data_collection_results must be an object");
  for (const [id, field] of Object.entries(task.dataCollection)) {
    const result = data[id];
    if (!isRecord(result)) throw new InvalidAnswerError(`data_collection_results.${id} is missing`);
    const where = `data_collection_results.${id}.value`;
    let value = result.value ?? null;
    if (value !== null) {
      switch (field.type) {
        case "string":
          value = text(value, where, LIMITS.value);
          if (field.enum && !field.enum.includes(value as string))
            throw new InvalidAnswerError(`${where} must be one of the allowed values`);
          break;
        case "boolean":
          if (typeof value !== "boolean") throw new InvalidAnswerError(`${where} must be a boolean`);
          break;
        case "integer":
          if (typeof value !== "number" || !Number.isInteger(value))
            throw new InvalidAnswerError(`${where} must be an integer`);
          break;
        case "number":
          if (typeof value !== "number" || !Number.isFinite(value))
            throw new InvalidAnswerError(`${where} must be a number`);
          break;
      }
    }
    out.data[id] = {
      data_collection_id: id,
      value: value as DataResult["value"],
      rationale: text(result.rationale ?? "", `data_collection_results.${id}.rationale`, LIMITS.rationale),
    };
  }
  return out;
}
