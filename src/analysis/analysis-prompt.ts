import type { ConversationDoc } from "../domain/conversation.js";
import type { ChatMessage } from "../providers/llm/chat-model.js";
import type { AnalysisSettings, DataCollectionField, EvaluationCriterion } from "./analysis-settings.js";

/** Most transcript characters sent to the model; a longer transcript keeps its start and its end. */
export const MAX_TRANSCRIPT_CHARS = 48_000;
/** Most characters of one tool parameter or result line in the transcript sent to the model. */
const MAX_TOOL_CHARS = 500;

/** What an analysis asks of the model. */
export interface AnalysisTask {
  /** Summary, title and overall success (a full run); false when only criteria are re-run. */
  overall: boolean;
  criteria: EvaluationCriterion[];
  dataCollection: Record<string, DataCollectionField>;
}

/** The task of a full run over an agent's settings. */
export function fullAnalysisTask(settings: AnalysisSettings): AnalysisTask {
  return { overall: true, criteria: settings.evaluation_criteria, dataCollection: settings.data_collection };
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The transcript as plain lines (`user: …`, `agent: …`, tool calls and results), for the prompt.
 * With `onlyAgent`, just the turns while that agent was active (the `agent` scope).
 */
export function renderTranscript(doc: ConversationDoc, onlyAgent?: string): string {
  const lines: string[] = [];
  let active = typeof doc.agent_id === "string" ? doc.agent_id : undefined;
  for (const entry of Array.isArray(doc.transcript) ? doc.transcript : []) {
    const turn = (entry ?? {}) as Record<string, unknown>;
    const meta = turn.agent_metadata as { agent_id?: unknown } | null | undefined;
    if (turn.role === "agent" && typeof meta?.agent_id === "string") active = meta.agent_id;
    if (onlyAgent !== undefined && active !== onlyAgent) continue;
    const role = typeof turn.role === "string" ? turn.role : "unknown";
    const at = typeof turn.time_in_call_secs === "number" ? `[${turn.time_in_call_secs}s] ` : "";
    if (typeof turn.message === "string" && turn.message.trim() !== "")
      lines.push(`${at}${role}: ${turn.message}`);
    for (const c of Array.isArray(turn.tool_calls) ? turn.tool_calls : []) {
      const call = (c ?? {}) as Record<string, unknown>;
      lines.push(
        `${at}${role} calls tool ${String(call.tool_name)}(${cut(String(call.params_as_json ?? ""), MAX_TOOL_CHARS)})`,
      );
    }
    for (const r of Array.isArray(turn.tool_results) ? turn.tool_results : []) {
      const result = (r ?? {}) as Record<string, unknown>;
      const outcome = result.is_error === true ? "failed" : "returned";
      lines.push(
        `${at}tool ${String(result.tool_name)} ${outcome}: ${cut(String(result.result_value ?? result.raw_error_message ?? ""), MAX_TOOL_CHARS)}`,
      );
    }
  }
  const text = lines.join("\n");
  if (text.length <= MAX_TRANSCRIPT_CHARS) return text;
  const half = Math.floor(MAX_TRANSCRIPT_CHARS / 2);
  return `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters of the transcript left out …]\n${text.slice(-half)}`;
}

const RESULT = { type: "string", enum: ["success", "failure", "unknown"] } as const;

/** The JSON schema of the answer the model must give for a task. */
export function answerSchema(task: AnalysisTask): { name: string; schema: object } {
  const criteria: Record<string, unknown> = {};
  for (const c of task.criteria) {
    criteria[c.id] = {
      type: "object",
      properties: { result: RESULT, rationale: { type: "string" } },
      required: ["result", "rationale"],
    };
  }
  const fields: Record<string, unknown> = {};
  for (const [id, field] of Object.entries(task.dataCollection)) {
    const value = field.enum
      ? { type: [field.type, "null"], enum: [...field.enum, null] }
      : { type: [field.type, "null"] };
    fields[id] = {
      type: "object",
      properties: { value, rationale: { type: "string" } },
      required: ["value", "rationale"],
    };
  }
  const properties: Record<string, unknown> = {
    evaluation_criteria_results: { type: "object", properties: criteria, required: Object.keys(criteria) },
    data_collection_results: { type: "object", properties: fields, required: Object.keys(fields) },
  };
  const required = ["evaluation_criteria_results", "data_collection_results"];
  if (task.overall) {
    properties.transcript_summary = { type: "string" };
    properties.call_summary_title = { type: "string" };
    properties.call_successful = RESULT;
    required.unshift("transcript_summary", "call_summary_title", "call_successful");
  }
  return { name: "conversation_analysis", schema: { type: "object", properties, required } };
}

/** Builds the chat messages for a task over a rendered transcript. */
export function buildAnalysisMessages(
  task: AnalysisTask,
  transcript: string,
  agentName: string | null,
): ChatMessage[] {
  const parts: string[] = [
    "You analyse a finished conversation between a voice or chat AI agent and a user.",
    "Answer with one JSON object and nothing else, following the JSON schema given.",
  ];
  if (task.overall) {
    parts.push(
      "- transcript_summary: a neutral summary of the conversation in a few sentences.",
      "- call_summary_title: a title of at most eight words.",
      '- call_successful: "success" if the agent achieved what the user needed, "failure" if not, "unknown" if the transcript does not tell.',
    );
  }
  if (task.criteria.length > 0) {
    parts.push(
      '- evaluation_criteria_results: for each criterion id below, {"result": "success"|"failure"|"unknown", "rationale": one or two sentences}.',
      "Criteria:",
      ...task.criteria.map((c) => `  ${c.id}${c.name ? ` (${c.name})` : ""}: ${c.conversation_goal_prompt}`),
    );
  } else {
    parts.push("- evaluation_criteria_results: {} (no criteria are defined).");
  }
  const fields = Object.entries(task.dataCollection);
  if (fields.length > 0) {
    parts.push(
      '- data_collection_results: for each field id below, {"value": the value found in the conversation (of the given type) or null when it was not mentioned, "rationale": one sentence}.',
      "Fields:",
      ...fields.map(
        ([id, f]) =>
          `  ${id} (${f.type}${f.enum ? `, one of ${f.enum.map((v) => JSON.stringify(v)).join(", ")}` : ""}): ${f.description}`,
      ),
    );
  } else {
    parts.push("- data_collection_results: {} (no fields are defined).");
  }
  parts.push("JSON schema of the answer:", JSON.stringify(answerSchema(task).schema));
  const header = agentName ? `Agent: ${agentName}\n` : "";
  return [
    { role: "system", content: parts.join("\n") },
    { role: "user", content: `${header}Transcript:\n${transcript || "(empty transcript)"}` },
  ];
}
