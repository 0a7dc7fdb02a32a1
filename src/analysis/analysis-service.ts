import { buildConversationRecord, type ConversationDoc } from "../domain/conversation.js";
import type { ChatClient } from "../providers/chat-client.js";
import type { Database } from "../store/store.js";
import { type AnalysisAnswer, checkAnalysisAnswer } from "./analysis-answer.js";
import {
  type AnalysisTask,
  answerSchema,
  buildAnalysisMessages,
  fullAnalysisTask,
  renderTranscript,
} from "./analysis-prompt.js";
import { type AnalysisSettings, EMPTY_SETTINGS } from "./analysis-settings.js";

/** What to run: the full analysis, or one evaluation criterion. */
export type AnalysisRun =
  | { kind: "full" }
  | { kind: "criterion"; criterionId: string; scope: "conversation" | "agent" };

/** The outcome of a run: the conversation as stored afterwards, or why nothing was written. */
export type AnalysisOutcome =
  | { ok: true; json: string }
  | { ok: false; reason: "conversation_not_found" }
  | { ok: false; reason: "criterion_not_found"; criterionId: string };

/** Reads an agent's analysis settings (none set: summary, title and success only). */
export async function loadAnalysisSettings(db: Database, agentId: string): Promise<AnalysisSettings> {
  const json = await db.analysisSettings.getAnalysisSettings(agentId);
  return json ? (JSON.parse(json) as AnalysisSettings) : EMPTY_SETTINGS;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * Merges an answer into a document's `analysis`. A full run replaces the criteria and data results
 * with the agent's current ones; a criterion run replaces that one result and keeps the rest. The
 * `_list` forms are kept in step when the document has them. Other analysis keys stay.
 */
export function mergeAnalysis(
  doc: ConversationDoc,
  answer: AnalysisAnswer,
  run: AnalysisRun,
): ConversationDoc {
  const previous = asRecord(doc.analysis);
  const analysis: Record<string, unknown> = { ...previous };
  const criteria =
    run.kind === "full"
      ? answer.criteria
      : { ...asRecord(previous.evaluation_criteria_results), ...answer.criteria };
  analysis.evaluation_criteria_results = criteria;
  if (run.kind === "full") analysis.data_collection_results = answer.data;
  else analysis.data_collection_results ??= {};
  if (Array.isArray(previous.evaluation_criteria_results_list)) {
    analysis.evaluation_criteria_results_list = Object.values(criteria);
  }
  if (run.kind === "full" && Array.isArray(previous.data_collection_results_list)) {
    analysis.data_collection_results_list = Object.values(answer.data);
  }
  if (answer.callSuccessful !== undefined) analysis.call_successful = answer.callSuccessful;
  if (answer.transcriptSummary !== undefined) analysis.transcript_summary = answer.transcriptSummary;
  if (answer.callSummaryTitle !== undefined) analysis.call_summary_title = answer.callSummaryTitle;
  // Both are required by the wire model: a first criterion run on an unanalysed conversation fills them neutrally.
  analysis.call_successful ??= "unknown";
  analysis.transcript_summary ??= "";
  return { ...doc, analysis };
}

/**
 * Runs post-call analysis: reads the conversation and its agent's settings, asks the model, checks
 * the answer, and writes it into `analysis` in one transaction (re-reading the document there, so
 * a concurrent change is kept). An unusable answer throws and writes nothing.
 */
export async function runAnalysis(
  db: Database,
  llm: ChatClient,
  conversationId: string,
  run: AnalysisRun,
): Promise<AnalysisOutcome> {
  const stored = await db.conversations.getConversation(conversationId);
  if (!stored) return { ok: false, reason: "conversation_not_found" };
  const doc = JSON.parse(stored.json) as ConversationDoc;
  const agentId = String(doc.agent_id);
  const settings = await loadAnalysisSettings(db, agentId);
  let task: AnalysisTask;
  let transcript: string;
  if (run.kind === "full") {
    task = fullAnalysisTask(settings);
    transcript = renderTranscript(doc);
  } else {
    const criterion = settings.evaluation_criteria.find((c) => c.id === run.criterionId);
    if (!criterion) return { ok: false, reason: "criterion_not_found", criterionId: run.criterionId };
    task = { overall: false, criteria: [criterion], dataCollection: {} };
    transcript = renderTranscript(doc, run.scope === "agent" ? agentId : undefined);
  }
  const agentName = typeof doc.agent_name === "string" ? doc.agent_name : null;
  const raw = await llm.completeJson(buildAnalysisMessages(task, transcript, agentName), answerSchema(task));
  const answer = checkAnalysisAnswer(raw, task);
  const record = await db.conversations.updateConversation(conversationId, (json) =>
    buildConversationRecord(mergeAnalysis(JSON.parse(json) as ConversationDoc, answer, run)),
  );
  if (!record) return { ok: false, reason: "conversation_not_found" };
  return { ok: true, json: record.json };
}
