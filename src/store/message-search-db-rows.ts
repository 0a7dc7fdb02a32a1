/**
 * The rows of message search (candidate conversations, embedding state, embedded chunks) as both
 * schemas store them, and how they map to the store types: written once for both backends.
 */
import type {
  CandidateConversation,
  EmbeddedChunk,
  LabelledChunk,
  LabelledVector,
  PendingEmbedding,
  ScannedLabel,
} from "./message-search-store.js";

/** A candidate conversation row of a message search. */
export interface CandidateDbRow {
  conversation_id: string;
  start_time: number;
  agent_id: string;
  doc: string;
}

/** Reads a candidate conversation row. */
export function toCandidate(r: CandidateDbRow): CandidateConversation {
  return { conversationId: r.conversation_id, startTime: r.start_time, agentId: r.agent_id, json: r.doc };
}

/** A conversation row whose embeddings need (re)making, with its embedding state (null when none). */
export interface PendingEmbeddingDbRow {
  conversation_id: string;
  doc: string;
  updated_at: number;
  text_hash: string | null;
  model: string | null;
}

/** Reads a conversation row whose embeddings need (re)making. */
export function toPendingEmbedding(r: PendingEmbeddingDbRow): PendingEmbedding {
  return {
    conversationId: r.conversation_id,
    json: r.doc,
    updatedAt: r.updated_at,
    textHash: r.text_hash,
    model: r.model,
  };
}

/** An embedded chunk row; the vector comes as each backend stores it (`V`). */
export interface EmbeddedChunkDbRow<V> {
  /** The row's label (a BIGINT on PostgreSQL, read as a number). */
  label: number | string;
  conversation_id: string;
  transcript_index: number;
  chunk: number;
  chunk_text: string;
  vector: V;
  start_time: number;
  agent_id: string;
}

/** Reads an embedded chunk row, with the backend's way of reading its vector. */
export function toEmbeddedChunk<V>(
  r: EmbeddedChunkDbRow<V>,
  readVector: (stored: V) => Float32Array,
): EmbeddedChunk {
  return {
    label: Number(r.label),
    conversationId: r.conversation_id,
    transcriptIndex: r.transcript_index,
    chunk: r.chunk,
    chunkText: r.chunk_text,
    vector: readVector(r.vector),
    startTime: r.start_time,
    agentId: r.agent_id,
  };
}

/** A labelled vector row (PostgreSQL sends a BIGINT label as text). */
export interface LabelledVectorDbRow<V> {
  label: number | string;
  vector: V;
}

/** Reads a labelled vector row, with the backend's way of reading its vector. */
export function toLabelledVector<V>(
  r: LabelledVectorDbRow<V>,
  readVector: (stored: V) => Float32Array,
): LabelledVector {
  return { label: Number(r.label), vector: readVector(r.vector) };
}

/** Reads a row of a scan by label (a null vector: made with another model). */
export function toScannedLabel<V>(
  r: LabelledVectorDbRow<V | null>,
  readVector: (stored: V) => Float32Array,
): ScannedLabel {
  return { label: Number(r.label), vector: r.vector === null ? null : readVector(r.vector) };
}

/** An embedded chunk row found by its label. */
export interface LabelledChunkDbRow<V> extends EmbeddedChunkDbRow<V> {
  label: number | string;
}

/** Reads an embedded chunk row found by its label. */
export function toLabelledChunk<V>(
  r: LabelledChunkDbRow<V>,
  readVector: (stored: V) => Float32Array,
): LabelledChunk {
  return { ...toEmbeddedChunk(r, readVector), label: Number(r.label) };
}
