/**
 * What the retention job (src/retention/) reads and writes beyond the ordinary stores: the
 * conversations a policy has expired, a page at a time in start-time order over indexed columns,
 * and when each agent's privacy settings took effect.
 */
import type { AudioInfo } from "./audio-info.js";

/** A conversation's place in start-time order (the keyset the finds page by). */
export interface ConversationPosition {
  conversationId: string;
  /** Unix seconds (the `start_time` index column). */
  startTime: number;
}

/** An agent's privacy settings as the job last saw them, and since when they apply. */
export interface AgentPrivacyMark {
  agentId: string;
  /** The retention fields of `platform_settings.privacy`, as canonical JSON (compared, never parsed by the store). */
  settings: string;
  /** Unix seconds: conversations that started at or after this started under `settings`. */
  effectiveAt: number;
  /**
   * How far the partial deletions of these settings have gone (null: not started): every
   * conversation up to here was trimmed or did not need it. It never passes one that was skipped
   * (live, not final, deliveries pending, or its trim failed).
   */
  sweptThrough: ConversationPosition | null;
}

/** The retention fields an agent has none of: its mark only records that it was seen. */
export const NO_PRIVACY_SETTINGS = "null";

/** Conversations of one agent from a start time on, which another rule governs. */
export interface AgentRange {
  agentId: string;
  /** Unix seconds, inclusive; null for all of the agent's conversations. */
  startFrom: number | null;
}

/** Conversations that started before a time (of one agent or of any), a page at a time. */
export interface StartedBeforeQuery {
  /** Only this agent's conversations; null for every agent's. */
  agentId: string | null;
  /** Unix seconds, inclusive; null for no lower bound. */
  startFrom: number | null;
  /** Unix seconds, exclusive. */
  startBefore: number;
  /** Conversations in these ranges are left out (another agent's rule governs them). */
  except: readonly AgentRange[];
  /** Only conversations after this position; null from the first. */
  after: ConversationPosition | null;
  limit: number;
}

/** One agent's expired conversations that still hold a part its settings delete, a page at a time. */
export interface TrimQuery {
  agentId: string;
  /** Unix seconds, inclusive; null for no lower bound. */
  startFrom: number | null;
  /** Unix seconds, exclusive. */
  startBefore: number;
  /** Leave out conversations whose `metadata.deletion_settings` already records deleting the audio. */
  audio: boolean;
  /** Leave out those whose `metadata.deletion_settings` already records deleting the transcript. */
  transcript: boolean;
  after: ConversationPosition | null;
  limit: number;
}

/** A conversation a trim may touch, and whether it may be touched now. */
export interface TrimCandidate extends ConversationPosition {
  /** Its status is `done` or `failed`, it is not live, and no outgoing delivery of it is pending. */
  ready: boolean;
}

/** One agent's finished conversations whose outgoing webhook deliveries are all final. */
export interface SettledQuery {
  agentId: string;
  /** Unix seconds, inclusive; null for all of the agent's conversations. */
  startFrom: number | null;
  after: ConversationPosition | null;
  limit: number;
}

/** The retention job's storage, the one interface both database backends implement. */
export interface RetentionStore {
  /** Every agent's recorded privacy mark. */
  listAgentMarks(): Promise<AgentPrivacyMark[]>;
  /** Records (or replaces) an agent's mark. */
  putAgentMark(mark: AgentPrivacyMark): Promise<void>;
  /** Forgets an agent's mark (the agent is gone). */
  deleteAgentMark(agentId: string): Promise<void>;
  /**
   * Conversations in (start_time, conversation_id) order that started in the query's range, not in
   * its `except` ranges, whose status is `done` or `failed`, that are not live now (registered in
   * live_sessions), and that have no outgoing webhook delivery still pending (queued, waiting for a
   * retry or in flight): the only ones a deletion may touch.
   */
  findStartedBefore(query: StartedBeforeQuery): Promise<ConversationPosition[]>;
  /**
   * An agent's conversations in (start_time, conversation_id) order whose status is `done` or
   * `failed`, that are not live, and that have no outgoing webhook delivery still pending (queued,
   * waiting for a retry or in flight).
   */
  findSettled(query: SettledQuery): Promise<ConversationPosition[]>;
  /**
   * An agent's conversations in (start_time, conversation_id) order that started in the query's
   * range and whose `metadata.deletion_settings` does not yet record every part the query asks
   * for; those a trim may not touch now come too, marked not `ready` (the sweep stops its mark there).
   */
  findToTrim(query: TrimQuery): Promise<TrimCandidate[]>;
  /**
   * Clears a conversation's audio (the recording and its speaker tracks) and returns what it had
   * (null when none), for the blob store; undefined if the conversation does not exist.
   */
  removeAudio(conversationId: string): Promise<AudioInfo | null | undefined>;
  /**
   * Deletes what a conversation holds beside its document that comes from what was said: SIP log
   * messages, uploaded files' rows (returning their blob keys) and message embeddings.
   */
  removeTranscriptData(conversationId: string): Promise<string[]>;
}
