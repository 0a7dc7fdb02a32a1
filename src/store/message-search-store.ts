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

/**
 * How a walk reads candidates: newest first, checking the words on each and stopping at the
 * budget ("time"), or through the database planner's statement, which does not stop ("planner").
 */
export type CandidateWalkPath = "time" | "planner";

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
  /**
   * The path the step took, from a store that chooses one (PostgreSQL): a search passes it to its
   * later steps and pages, so they all read the same way whatever the store would choose then.
   */
  path?: CandidateWalkPath;
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
  /** The row's label: unique, never reused (semantic results of equal score are ordered by it). */
  label: number;
  conversationId: string;
  startTime: number;
  agentId: string;
}

/** An embedded chunk's label (unique, never reused) and vector: what the ANN index holds. */
export interface LabelledVector {
  label: number;
  vector: Float32Array;
}

/** An embedding as a scan by label reads it: the vector is null when it was made with another model. */
export interface ScannedLabel {
  label: number;
  vector: Float32Array | null;
}

/**
 * Where the database's writing transactions stand, for a reader of labels that may become visible
 * out of order (PostgreSQL: the current snapshot's xmin and xmax, as numbers).
 */
export interface EmbeddingWriteHorizon {
  /** Every transaction below this one has ended (committed or rolled back). */
  oldestRunning: number;
  /** Every transaction started so far is below this one. */
  next: number;
}

/** A range of labels `[from, to)`. */
export type LabelRange = readonly [from: number, to: number];

/** An embedded chunk found by its label. */
export interface LabelledChunk extends EmbeddedChunk {
  label: number;
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
   * `path`, from an earlier step's `path`, makes the step read the same way (a store that never
   * chooses ignores it).
   */
  walkCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
    budget: number,
    path?: CandidateWalkPath,
  ): Promise<CandidateWalk>;
  /**
   * The path `walkCandidates` would take for this query now, from a store that chooses one
   * (PostgreSQL); undefined otherwise. A search that knows its walk goes through the planner
   * starts its ranking window with its first batch, which relies on two things: a step with the
   * path "planner" never stops at its budget (`resume` null, `examined` the candidates returned),
   * and the answer is the choice `walkCandidates` would make itself.
   */
  chooseWalkPath?(query: ListQuery): Promise<CandidateWalkPath | undefined>;
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
  /**
   * The embeddings whose label is above `afterLabel`, in label order, at most `limit`; the vector
   * of those made with another model than `model` is null.
   */
  scanLabelledVectors(model: string, afterLabel: number, limit: number): Promise<ScannedLabel[]>;
  /** Those of `labels` that exist and were made with `model`, with their vectors (any order). */
  findLabelledVectors(model: string, labels: readonly number[]): Promise<LabelledVector[]>;
  /**
   * Those of `labels` that exist, were made with `model` and are within the filter, with what a
   * result needs (any order): how a semantic search checks what its ANN index found.
   */
  findChunksByLabel(
    model: string,
    labels: readonly number[],
    filter: EmbeddingFilter,
  ): Promise<LabelledChunk[]>;
  /** How many embeddings (chunks) were made with `model`: the live points an ANN index should hold. */
  countEmbeddings(model: string): Promise<number>;
  /** Those made with `model` whose label is within one of `ranges` (any order). */
  findLabelledVectorsInRanges(model: string, ranges: readonly LabelRange[]): Promise<LabelledVector[]>;
  /**
   * Where the writing transactions stand now; null when labels become visible in label order
   * (one writer at a time, as SQLite): a reader then never sees a gap that fills later.
   */
  embeddingWriteHorizon(): Promise<EmbeddingWriteHorizon | null>;
  /** The highest label ever handed out (0 when none): a persisted index above it is not this database's. */
  highestEmbeddingLabel(): Promise<number>;
}
