import type {
  ConversationService,
  WriteOptions,
  WrittenConversation,
} from "../conversations/conversation-service.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { describeIssues, InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { ChatModel } from "../providers/llm/chat-model.js";
import type { AnalysisSettingsStore } from "../store/analysis-settings-store.js";
import { audioFlagsOf } from "../store/audio-info.js";
import type { ConversationStore } from "../store/store.js";
import { type AgentSettingsSource, resolveAnalysisSettings } from "./agent-analysis-settings.js";
import { type AnalysisAnswer, checkAnalysisAnswer, InvalidAnswerError } from "./analysis-answer.js";
import {
  type AnalysisTask,
  answerSchema,
  buildAnalysisMessages,
  fullAnalysisTask,
  renderTranscript,
} from "./analysis-prompt.js";

/** What an analysis run reads and writes. */
export interface AnalysisDeps {
  conversationStore: Pick<ConversationStore, "getConversation">;
  /** The answer is written through the one write path, validated like every other write. */
  conversations: Pick<ConversationService, "changeConversation">;
  /** The settings stored by the ingest route, for agents that live elsewhere. */
  analysisSettings: AnalysisSettingsStore;
  /** The agents served here: such an agent's own criteria and fields win over the ingest settings. */
  agents?: AgentSettingsSource;
}

/** What to run: the full analysis, or one evaluation criterion. */
export type AnalysisRun =
  | { kind: "full" }
  | { kind: "criterion"; criterionId: string; scope: "conversation" | "agent" };

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
 * Asks the model for an analysis of a conversation's document: reads its agent's settings (the
 * agent served here, else the ingest settings: resolveAnalysisSettings), builds the task, and
 * checks the answer. Writes nothing. Throws NotFoundError for an unknown criterion, a
 * ProviderError when the model call fails, InvalidAnswerError for an answer that does not fit.
 */
export async function askForAnalysis(
  deps: AnalysisDeps,
  llm: ChatModel,
  doc: ConversationDoc,
  run: AnalysisRun,
): Promise<AnalysisAnswer> {
  const agentId = String(doc.agent_id);
  const { settings, origin } = await resolveAnalysisSettings(deps, agentId);
  let task: AnalysisTask;
  let transcript: string;
  if (run.kind === "full") {
    task = fullAnalysisTask(settings);
    transcript = renderTranscript(doc);
  } else {
    const criterion = settings.evaluation_criteria.find((c) => c.id === run.criterionId);
    if (!criterion) {
      const where =
        origin === "agent"
          ? "add it to the agent's platform_settings.evaluation.criteria (PATCH /v1/convai/agents/{agent_id})"
          : "define it with PUT /ingest/v1/agents/{agent_id}/analysis-settings";
      throw new NotFoundError(
        "evaluation_criterion",
        run.criterionId,
        `The agent has no evaluation criterion ${run.criterionId}; ${where}.`,
      );
    }
    task = { overall: false, criteria: [criterion], dataCollection: {} };
    transcript = renderTranscript(doc, run.scope === "agent" ? agentId : undefined);
  }
  const agentName = typeof doc.agent_name === "string" ? doc.agent_name : null;
  const raw = await llm.completeJson(buildAnalysisMessages(task, transcript, agentName), answerSchema(task));
  return checkAnalysisAnswer(raw, task);
}

/**
 * Writes a change to a conversation through the one write path; a change that would make the
 * document invalid is the model's fault (InvalidAnswerError), and nothing is written.
 */
export async function writeAnalysis(
  deps: AnalysisDeps,
  conversationId: string,
  change: (doc: ConversationDoc) => ConversationDoc,
  options: WriteOptions = {},
): Promise<string> {
  try {
    return (await deps.conversations.changeConversation(conversationId, change, options)).json;
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidAnswerError(`it would make the document invalid (${describeIssues(error.issues)})`);
    }
    throw error;
  }
}

/**
 * Runs post-call analysis: reads the conversation and its agent's settings, asks the model, checks
 * the answer, and writes it into `analysis` in one transaction (re-reading the document there, so
 * a concurrent change is kept). Returns the conversation as written. Throws NotFoundError for an
 * unknown conversation or criterion, and InvalidAnswerError for an answer that does not fit (also
 * when it would make the document invalid); then nothing is written.
 */
export async function runAnalysis(
  deps: AnalysisDeps,
  llm: ChatModel,
  conversationId: string,
  run: AnalysisRun,
): Promise<WrittenConversation> {
  const stored = await deps.conversationStore.getConversation(conversationId);
  if (!stored) throw new NotFoundError("conversation", conversationId);
  const answer = await askForAnalysis(deps, llm, JSON.parse(stored.json) as ConversationDoc, run);
  const json = await writeAnalysis(deps, conversationId, (current) => mergeAnalysis(current, answer, run));
  // A run does not touch the audio, so the flags are the ones the run started with.
  return { json, ...audioFlagsOf(stored.audio) };
}
