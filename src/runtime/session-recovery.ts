import type { Logger } from "pino";
import type { ConversationService } from "../conversations/conversation-service.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { LiveSession, LiveSessionStore } from "../store/live-session-store.js";

/** The termination reason of a conversation whose session a crash or kill cut off (recovered by its node at start). */
export const RECOVERED_TERMINATION_REASON = "The server stopped during the conversation (recovered at start)";

/** The termination reason of a conversation whose node stopped its heartbeat (recovered by another node). */
export const RECOVERED_BY_ANOTHER_NODE_REASON =
  "The server stopped during the conversation (recovered by another node)";

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
  /** This node's id: at start only sessions registered under it are recovered; later, never its own. */
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
function recoverDocument(doc: ConversationDoc, outcome: { value: Outcome }, reason: string): ConversationDoc {
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
    metadata: { ...metadata, termination_reason: reason },
  };
}

/**
 * Writes each session's conversation through the one write path as `recoverDocument` says (failed
 * ones with `reason`), then unregisters it. What can't be recovered is skipped and unregistered;
 * anything else (the database unreachable) is thrown, and the session stays registered for a later
 * try. Logs counts only, never content.
 */
async function recoverSessions(
  sessions: LiveSession[],
  reason: string,
  deps: RecoveryDeps,
): Promise<RecoverySummary> {
  const summary: RecoverySummary = { failed: 0, finished: 0, unchanged: 0, skipped: 0 };
  for (const session of sessions) {
    const outcome: { value: Outcome } = { value: "unchanged" };
    try {
      // A conversation recovery finishes gets its post-call webhooks (one already finished had them).
      await deps.conversations.changeConversation(
        session.conversationId,
        (doc) => recoverDocument(doc, outcome, reason),
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
      // keeping it registered would only retry it for ever. Anything else (the database
      // unreachable) stops recovery, and the session stays registered for the next try.
      if (!(error instanceof NotFoundError || error instanceof InvalidInputError)) throw error;
      summary.skipped += 1;
      deps.logger.warn(
        { conversation_id: session.conversationId, reason: error.name },
        "a live session left by a stop could not be recovered",
      );
    }
    await deps.liveSessions.unregister(session.conversationId);
  }
  return summary;
}

/**
 * Recovers the live sessions this node left registered when it stopped without ending them (a
 * crash, SIGKILL, a lost machine), as `recoverDocument` says. Run at start, before the node serves
 * sessions, so none of them is live. Other nodes' sessions are left to `recoverStaleSessions`.
 */
export async function recoverLiveSessions(deps: RecoveryDeps): Promise<RecoverySummary> {
  const sessions = await deps.liveSessions.listByNode(deps.nodeId);
  const summary = await recoverSessions(sessions, RECOVERED_TERMINATION_REASON, deps);
  if (sessions.length > 0) {
    deps.logger.info(
      { node_id: deps.nodeId, ...summary },
      "recovered live sessions this node left when it stopped",
    );
  }
  return summary;
}

/** Stale sessions taken per call of `recoverStaleSessions`. */
const STALE_SESSIONS_PER_ROUND = 100;

/**
 * Recovers the live sessions of other nodes whose heartbeat is older than `timeoutMs` by the
 * database's clock: their node crashed or lost the database and has not come back. Run by every
 * node in rounds under the `session-recovery` job lock, so one node does each round; a conversation
 * changed twice (a race with its own node ending it) is left as it is the second time, and its
 * post-call webhooks go out once. Recovers at most a hundred sessions per call.
 */
export async function recoverStaleSessions(deps: RecoveryDeps, timeoutMs: number): Promise<RecoverySummary> {
  const sessions = await deps.liveSessions.listStale(timeoutMs, deps.nodeId, STALE_SESSIONS_PER_ROUND);
  const summary = await recoverSessions(sessions, RECOVERED_BY_ANOTHER_NODE_REASON, deps);
  if (sessions.length > 0) {
    deps.logger.info(
      { node_id: deps.nodeId, from_nodes: [...new Set(sessions.map((s) => s.nodeId))], ...summary },
      "recovered live sessions whose node stopped its heartbeat",
    );
  }
  return summary;
}
