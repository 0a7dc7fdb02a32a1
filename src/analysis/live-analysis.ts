import type { WriteOptions } from "../conversations/conversation-service.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { NotFoundError } from "../domain/errors.js";
import type { ChatModel } from "../providers/llm/chat-model.js";
import { type AnalysisAnswer, InvalidAnswerError } from "./analysis-answer.js";
import { type AnalysisDeps, askForAnalysis, mergeAnalysis, writeAnalysis } from "./analysis-service.js";

/** Where post-call analysis reports a failure: pino's shape (a context object first, then a message). */
export interface AnalysisLog {
  warn(context: object, message: string): void;
  debug(context: object, message: string): void;
}

const FULL_RUN = { kind: "full" } as const;

/** The conversation finished: `done`, with the analysis when there is one. */
function finished(doc: ConversationDoc, answer: AnalysisAnswer | undefined): ConversationDoc {
  const analysed = answer ? mergeAnalysis(doc, answer, FULL_RUN) : doc;
  return { ...analysed, status: "done" };
}

/**
 * Post-call analysis of a live conversation that ended well (recorded `processing`): runs the
 * full analysis with its agent's settings (the agent served here wins over the ingest settings,
 * see resolveAnalysisSettings) and writes it with status `done` in one write. When the model
 * fails or answers something that does not fit, the conversation is still made `done`, without
 * analysis, and the failure is logged at warn without content (the whole error at debug: a
 * provider's message may quote what it was sent). Only a failed write, or an unknown
 * conversation, is left to the caller (thrown); a conversation deleted meanwhile is skipped.
 */
export async function analyseLiveConversation(
  deps: AnalysisDeps,
  llm: ChatModel,
  conversationId: string,
  log?: AnalysisLog,
  options: { expectAudio?: boolean } = {},
): Promise<void> {
  const stored = await deps.conversationStore.getConversation(conversationId);
  if (!stored) return;
  // The `done` write finishes the live session: it queues the post-call webhooks.
  const doc = JSON.parse(stored.json) as ConversationDoc;
  const write: WriteOptions = {
    finishesLiveSession: {
      agentId: typeof doc.agent_id === "string" ? doc.agent_id : null,
      expectAudio: options.expectAudio === true,
    },
  };
  let answer: AnalysisAnswer | undefined;
  try {
    answer = await askForAnalysis(deps, llm, doc, FULL_RUN);
  } catch (error) {
    reportFailure(log, conversationId, error);
  }
  try {
    if (answer) {
      try {
        await writeAnalysis(deps, conversationId, (current) => finished(current, answer), write);
        return;
      } catch (error) {
        // An answer the document cannot hold is the model's failure too: done without analysis.
        if (!(error instanceof InvalidAnswerError)) throw error;
        reportFailure(log, conversationId, error);
      }
    }
    await deps.conversations.changeConversation(
      conversationId,
      (current) => finished(current, undefined),
      write,
    );
  } catch (error) {
    // Deleted while it was analysed: nothing is left to finish.
    if (!(error instanceof NotFoundError)) throw error;
  }
}

function reportFailure(log: AnalysisLog | undefined, conversationId: string, error: unknown): void {
  const kind = error instanceof Error ? error.name : typeof error;
  log?.warn(
    { conversationId, error: kind },
    "Post-call analysis failed: the conversation is done without analysis",
  );
  log?.debug({ conversationId, err: error }, "post-call analysis failure");
}
