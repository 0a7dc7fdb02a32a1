/**
 * The storage interfaces the rest of the server sees. Every store says "not found" the same way:
 * the method returns `undefined` (never `false`, never an error); a write that finds nothing to
 * write to writes nothing.
 */
import type { ConversationRecord } from "../domain/conversation.js";
import type { ListPage, ListQuery } from "../domain/list-query.js";
import type { AgentStore } from "./agent-store.js";
import type { AnalysisSettingsStore } from "./analysis-settings-store.js";
import type { AudioInfo } from "./audio-info.js";
import type { ConversationSignatureStore } from "./conversation-signature-store.js";
import type { ConversationStatsStore } from "./conversation-stats-store.js";
import type { ConversationFileStore } from "./file-store.js";
import type { JobLocks } from "./job-locks.js";
import type { LiveSessionStore } from "./live-session-store.js";
import type { MessageSearchStore } from "./message-search-store.js";
import type { NewOutgoingDelivery, OutgoingWebhookStore } from "./outgoing-webhook-store.js";
import type { RetentionStore } from "./retention-store.js";
import type { SipMessageStore } from "./sip-message-store.js";
import type { SyncStateStore } from "./sync-state-store.js";
import type { TagStore } from "./tag-store.js";
import type { TopicStore } from "./topic-store.js";
import type { TracePushStore } from "./trace-push-store.js";
import type { WebhookStore } from "./webhook-store.js";

/** A stored conversation as a reader gets it: JSON text ready to serve, plus what the server holds. */
export interface StoredConversation {
  /** The document as stored, without the server-owned `has_*` keys. */
  json: string;
  audio: AudioInfo | null;
}

/** A stored conversation as GET serves it: UTF-8 JSON bytes with the server-owned `has_*` keys. */
export interface ServedConversationBytes {
  /** `renderStoredDocument` of the stored document, encoded: the exact bytes to send. */
  bytes: Buffer;
  audio: AudioInfo | null;
}

/** A list row: the precomputed list item and the optional parts a request may add to it. */
export interface ListRow {
  listItemJson: string;
  transcriptSummary: string | null;
  evaluationResultsJson: string | null;
  dataCollectionResultsJson: string | null;
}

/** Whether an upsert created the conversation or replaced an existing one. */
export type UpsertOutcome = "created" | "replaced";

/** One written conversation: created or replaced, and the audio the row keeps (a replace keeps it). */
export interface PutOutcome {
  outcome: UpsertOutcome;
  audio: AudioInfo | null;
}

/** An API key as stored: only its hash is kept. */
export interface ApiKeyRow {
  id: string;
  name: string;
  /** The first characters of the key, to tell keys apart in listings. */
  prefix: string;
  hash: string;
  createdAtUnixSecs: number;
  revokedAtUnixSecs: number | null;
}

/**
 * Outgoing webhook deliveries a conversation write queues in its own transaction (the outbox):
 * the write and its deliveries are stored together or not at all.
 */
export type QueuedDeliveries = readonly NewOutgoingDelivery[];

/** Conversations: the one interface both database backends implement. */
export interface ConversationStore {
  /** Writes conversations (and `deliveries`) in one transaction: all of them or none. */
  upsertConversations(
    records: readonly ConversationRecord[],
    deliveries?: QueuedDeliveries,
  ): Promise<UpsertOutcome[]>;
  /** Writes one conversation as upsertConversations does, and says what the row now holds besides it. */
  putConversation(record: ConversationRecord, deliveries?: QueuedDeliveries): Promise<PutOutcome>;
  /** The stored conversation; undefined if it does not exist. */
  getConversation(conversationId: string): Promise<StoredConversation | undefined>;
  /**
   * The document as GET serves it, as UTF-8 bytes in one buffer (the fast path: no decoding to a JS
   * string, and one allocation a request); undefined if it does not exist.
   */
  getServedConversationBytes(conversationId: string): Promise<ServedConversationBytes | undefined>;
  listConversations(query: ListQuery): Promise<ListPage<ListRow>>;
  /**
   * Removes a conversation and its index rows (and, in the same transaction, its uploaded files'
   * rows); returns its audio (with its speaker tracks) and, when it had any, its files' blob keys
   * (for the blob store);
   * undefined if the conversation does not exist.
   */
  deleteConversation(conversationId: string): Promise<DeletedConversation | undefined>;
  /**
   * Points the conversation at this audio in one atomic step and returns the audio it replaced
   * (null when it had none), so the caller can delete those blobs; undefined if the conversation is
   * unknown (nothing written). The recording and its speaker tracks are switched together: audio
   * without `tracks` clears the tracks the row had (they are in `replaced`).
   */
  setAudio(
    conversationId: string,
    audio: AudioInfo,
    deliveries?: QueuedDeliveries,
  ): Promise<{ replaced: AudioInfo | null } | undefined>;
  countConversations(): Promise<number>;
  /**
   * Reads, changes and rewrites one conversation in one transaction (no other writer interleaves);
   * `change` gets the stored JSON and returns the new record, which is returned as written;
   * undefined (nothing written) if the conversation does not exist. `deliveries` are queued in
   * the same transaction, only when the conversation exists.
   */
  updateConversation(
    conversationId: string,
    change: (json: string) => ConversationRecord,
    deliveries?: QueuedDeliveries,
  ): Promise<ConversationRecord | undefined>;
  /** Every conversation in conversation_id order, a page at a time (for export and sync). */
  scanConversations(afterId: string | null, limit: number): Promise<ScannedConversation[]>;
}

/** What a deleted conversation leaves for the blob store to remove. */
export interface DeletedConversation {
  audio: AudioInfo | null;
  fileBlobKeys?: string[];
}

/** One conversation as a full scan returns it. */
export interface ScannedConversation {
  conversationId: string;
  json: string;
  audio: AudioInfo | null;
}

/** API keys, stored hashed. */
export interface KeyStore {
  insertKey(key: ApiKeyRow): Promise<void>;
  listKeys(): Promise<ApiKeyRow[]>;
  /** Marks a key revoked by id or prefix; returns how many keys changed. */
  revokeKey(idOrPrefix: string, atUnixSecs: number): Promise<number>;
  /** The key with this hash, unless revoked; undefined if there is none. */
  findActiveKeyByHash(hash: string): Promise<ApiKeyRow | undefined>;
}

/** A database backend: the stores over one connection (pool), migrated and ready. */
export interface Database {
  readonly kind: "sqlite" | "postgres";
  readonly conversations: ConversationStore;
  readonly keys: KeyStore;
  /** Webhook deliveries, dead letters and audio waiting for its conversation. */
  readonly webhooks: WebhookStore;
  /** High-water marks of `openconvai sync`, one per source. */
  readonly syncState: SyncStateStore;
  /** Conversation tags (definitions). */
  readonly tags: TagStore;
  /** Files uploaded for conversations. */
  readonly conversationFiles: ConversationFileStore;
  /** SIP log messages of conversations. */
  readonly sipMessages: SipMessageStore;
  /** Agents' topic definitions and topic metrics. */
  readonly topics: TopicStore;
  /** Message search: text-search candidates and the embeddings semantic search reads. */
  readonly messageSearch: MessageSearchStore;
  /** Per-agent analysis settings (evaluation criteria, data collection). */
  readonly analysisSettings: AnalysisSettingsStore;
  /** Agents: their configuration documents (the Agents API). */
  readonly agents: AgentStore;
  /** Signed conversation URLs: the signing key every node shares, spent single-use signatures. */
  readonly conversationSignatures: ConversationSignatureStore;
  /** Live sessions: which node serves which conversation (what a restarted node recovers). */
  readonly liveSessions: LiveSessionStore;
  /** Outgoing webhooks: the workspace's endpoints and ConvAI settings, the outbox, the delivery log. */
  readonly outgoingWebhooks: OutgoingWebhookStore;
  /** The overview statistics' daily rollups, brought up to date on read. */
  readonly conversationStats: ConversationStatsStore;
  /** Background work that runs once across the nodes on this database (see job-locks.ts). */
  readonly jobLocks: JobLocks;
  /** What the retention job reads and writes: expired conversations, agents' privacy marks. */
  readonly retention: RetentionStore;
  /** Conversation traces waiting to be pushed to an OpenTelemetry collector, and whether pushing is on. */
  readonly tracePushes: TracePushStore;
  /**
   * Asks the database for `SELECT 1`: resolves when it answers, rejects when it can't (closed,
   * unreachable, or no answer within a couple of seconds). What `/readyz` checks.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised by a store when the database was written by a newer openconvai. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `This database has schema version ${found}, but this openconvai supports up to ${supported}. ` +
        "Upgrade openconvai, or point --data / --database-url at another database.",
    );
    this.name = "SchemaTooNewError";
  }
}

/**
 * Raised by `upsertConversations` when the database refused what it was given (a constraint, a
 * value it cannot hold), not because it could not be reached: the batch was rolled back, and
 * written in smaller parts the other records can still go in. The message is the database's.
 */
export class RecordsRefusedError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "RecordsRefusedError";
  }
}
