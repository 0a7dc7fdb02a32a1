/**
 * The rows of message search (candidate conversations, embedding state, embedded chunks) as both
 * schemas store them, and how they map to the store types: written once for both backends.
 */
import type { CandidateConversation, EmbeddedChunk, PendingEmbedding } from "./message-search-store.js";

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
    conversationId: r.conversation_id,
    transcriptIndex: r.transcript_index,
    chunk: r.chunk,
    chunkText: r.chunk_text,
    vector: readVector(r.vector),
    startTime: r.start_time,
    agentId: r.agent_id,
  };
}
