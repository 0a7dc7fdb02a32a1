import type { ListQuery } from "../domain/list-query.js";

/** A conversation that matches a message search's filters, with its document. */
export interface CandidateConversation {
  conversationId: string;
  startTime: number;
  agentId: string;
  /** The stored document (JSON text). */
  json: string;
}

/** Where a walk through candidates starts, in (start time, id) descending order. */
export interface CandidatePosition {
  startTime: number;
  conversationId: string;
  /** Whether the conversation at the position itself is included. */
  inclusive: boolean;
}

/** One bounded step of a walk through candidates (`MessageSearchStore.walkCandidates`). */
export interface CandidateWalk {
  /** Candidates in (start time, id) descending order, at most the limit asked for. */
  candidates: CandidateConversation[];
  /** How many conversations the step examined (for SQLite: rows whose text was read). */
  examined: number;
  /**
   * Set when the step stopped at its budget before the limit or the end: the position the walk
   * goes on from (exclusive). Null when the candidates run to the limit or to the end.
   */
  resume: CandidatePosition | null;
}

/** One embedded piece of a transcript message. */
export interface EmbeddingRow {
  transcriptIndex: number;
  chunk: number;
  chunkText: string;
  vector: Float32Array;
}

/** An embedded chunk as a semantic search reads it, with what a result needs of its conversation. */
export interface EmbeddedChunk extends EmbeddingRow {
  conversationId: string;
  startTime: number;
  agentId: string;
}

/** The key of an embedded chunk: the order a scan walks them in. */
export interface EmbeddingKey {
  conversationId: string;
  transcriptIndex: number;
  chunk: number;
}

/** A conversation whose embeddings are missing, made with another model, or older than the document. */
export interface PendingEmbedding {
  conversationId: string;
  json: string;
  /** The conversation row's `updated_at` the document was read at. */
  updatedAt: number;
  /** The message-text hash its current embeddings were made from, if it has any. */
  textHash: string | null;
  /** The model its current embeddings were made with, if it has any. */
  model: string | null;
}

/** What a conversation's embeddings were made from: the model, the document's version and its message text. */
export interface EmbeddingState {
  model: string;
  /** The conversation row's `updated_at` the document was read at. */
  updatedAt: number;
  /** The hash of the message text the embeddings were made from. */
  textHash: string;
}

/** What a semantic-search scan is limited to. */
export interface EmbeddingFilter {
  agentId?: string;
  branchId?: string;
}

/** Message search: candidate conversations for text search, and the embeddings semantic search reads. */
export interface MessageSearchStore {
  /**
   * Conversations matching a list query's filters and search (its cursor and page size are not
   * used), newest first (start time, then id, descending), from a position, at most `limit`.
   */
  findCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
  ): Promise<CandidateConversation[]>;
  /**
   * The same walk, stopped after examining about `budget` conversations, so a search whose words
   * hold in many conversations' text (or in none) never runs long; `resume` says where to go on.
   */
  walkCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
    budget: number,
  ): Promise<CandidateWalk>;
  /** Conversations whose embeddings need (re)making for `model`, at most `limit`, in id order. */
  findPendingEmbeddings(model: string, limit: number): Promise<PendingEmbedding[]>;
  /**
   * Replaces a conversation's embeddings (`null` keeps the rows it has: its text did not change)
   * and records what they were made from, in one transaction. Returns false, writing nothing, when
   * the conversation is gone or changed since `updatedAt`.
   */
  replaceEmbeddings(
    conversationId: string,
    state: EmbeddingState,
    rows: readonly EmbeddingRow[] | null,
  ): Promise<boolean>;
  /** Embedded chunks made with `model` after `after` in key order, at most `limit`, within a filter. */
  scanEmbeddings(
    model: string,
    filter: EmbeddingFilter,
    after: EmbeddingKey | null,
    limit: number,
  ): Promise<EmbeddedChunk[]>;
  /** How many conversations have embeddings made with `model`. */
  countEmbeddedConversations(model: string): Promise<number>;
}
