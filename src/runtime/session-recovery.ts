import type { Logger } from "pino";
import type { ConversationService } from "../conversations/conversation-service.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { LiveSessionStore } from "../store/live-session-store.js";

/** The termination reason of a conversation whose session a crash or kill cut off. */
export const RECOVERED_TERMINATION_REASON = "The server stopped during the conversation (recovered at start)";

/** What recovery did with the sessions a node had left registered. */
export interface RecoverySummary {
  /** `initiated` or `in-progress` conversations, now `failed` with their transcript so far. */
  failed: number;
  /** `processing` conversations (the call had ended, post-call work had not), now `done`. */
  finished: number;
  /** Conversations already `done` or `failed` (the crash came after the last write): unchanged. */
  unchanged: number;
  /** Registered conversations that are no longer stored (deleted meanwhile), or that could not be changed. */
  skipped: number;
}

/** What recovery reads and writes. */
export interface RecoveryDeps {
  /** This node's id: only sessions registered under it are recovered. */
  nodeId: string;
  liveSessions: LiveSessionStore;
  conversations: Pick<ConversationService, "changeConversation">;
  logger: Pick<Logger, "info" | "warn">;
}

type Outcome = Exclude<keyof RecoverySummary, "skipped">;

/**
 * The conversation as recovery leaves it. A session cut off while it ran (`initiated`,
 * `in-progress`) is `failed`, with the recovered termination reason. A `processing` one had ended
 * (its termination reason says how) and only its post-call analysis was cut off: it becomes `done`
 * with its reason kept; analysis can be run again through the analysis API. A conversation already
 * `done` or `failed` is left as it is. The transcript and everything else stay as stored.
 */
function recoverDocument(doc: ConversationDoc, outcome: { value: Outcome }): ConversationDoc {
  const status = doc.status;
  if (status === "done" || status === "failed") {
    outcome.value = "unchanged";
    return doc;
  }
  if (status === "processing") {
    outcome.value = "finished";
    return { ...doc, status: "done" };
  }
  outcome.value = "failed";
  const metadata = (doc.metadata ?? {}) as Record<string, unknown>;
  return {
    ...doc,
    status: "failed",
    metadata: { ...metadata, termination_reason: RECOVERED_TERMINATION_REASON },
  };
}

/**
 * Recovers the live sessions this node left registered when it stopped without ending them (a
 * crash, SIGKILL, a lost machine): each conversation is written through the one write path as
 * `recoverDocument` says, then unregistered. Run at start, before the node serves sessions, so none
 * of them is live. Sessions of other nodes on the same database are never touched. Logs counts
 * only, never content.
 */
export async function recoverLiveSessions(deps: RecoveryDeps): Promise<RecoverySummary> {
  const summary: RecoverySummary = { failed: 0, finished: 0, unchanged: 0, skipped: 0 };
  const sessions = await deps.liveSessions.listByNode(deps.nodeId);
  for (const session of sessions) {
    const outcome: { value: Outcome } = { value: "unchanged" };
    try {
      // A conversation recovery finishes gets its post-call webhooks (one already finished had them).
      await deps.conversations.changeConversation(
        session.conversationId,
        (doc) => recoverDocument(doc, outcome),
        {
          finishesLiveSession: {
            onlyFrom: ["initiated", "in-progress", "processing"],
            // A `processing` call had its recording stored before its analysis was cut off.
            expectAudio: "if-stored",
          },
        },
      );
      summary[outcome.value] += 1;
    } catch (error) {
      // Gone, or a stored document that no longer passes validation: nothing recovery can fix, and
      // keeping it registered would only retry it at every start. Anything else (the database
      // unreachable) stops the start, and the session stays registered for the next one.
      if (!(error instanceof NotFoundError || error instanceof InvalidInputError)) throw error;
      summary.skipped += 1;
      deps.logger.warn(
        { conversation_id: session.conversationId, reason: error.name },
        "a live session left by a stop could not be recovered",
      );
    }
    await deps.liveSessions.unregister(session.conversationId);
  }
  if (sessions.length > 0) {
    deps.logger.info(
      { node_id: deps.nodeId, ...summary },
      "recovered live sessions this node left when it stopped",
    );
  }
  return summary;
}
