import type { EmbeddingFilter, EmbeddingKey, EmbeddingState } from "./message-search-store.js";
import { createParams, type SqlPlaceholders, type SqlQuery } from "./sql-params.js";

/**
 * The conversations whose embeddings need (re)making for a model, in id order: made with another
 * model, or from an older document. An embedding made in the same second as the last write is
 * checked again (a write later in that second has the same `updated_at`).
 */
export function buildPendingEmbeddingsSql(model: string, limit: number, dialect: SqlPlaceholders): SqlQuery {
  const { params, bind } = createParams(dialect);
  const sql = `SELECT c.conversation_id, c.doc, c.updated_at, e.text_hash, e.model
    FROM conversations c LEFT JOIN embedding_state e ON e.conversation_id = c.conversation_id
    WHERE e.conversation_id IS NULL OR e.model <> ${bind(model)} OR e.source_updated_at <> c.updated_at
      OR e.embedded_at <= c.updated_at
    ORDER BY c.conversation_id LIMIT ${bind(limit)}`;
  return { sql, params };
}

/** Records what a conversation's embeddings were made from (replacing the previous record). */
export function buildEmbeddingStateSql(
  conversationId: string,
  state: EmbeddingState,
  embeddedAtUnixSecs: number,
  dialect: SqlPlaceholders,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  const values = [conversationId, state.model, state.updatedAt, state.textHash, embeddedAtUnixSecs];
  const sql = `INSERT INTO embedding_state (conversation_id, model, source_updated_at, text_hash, embedded_at)
    VALUES (${values.map(bind).join(", ")})
    ON CONFLICT (conversation_id) DO UPDATE SET model = excluded.model,
      source_updated_at = excluded.source_updated_at, text_hash = excluded.text_hash,
      embedded_at = excluded.embedded_at`;
  return { sql, params };
}

/** Embedded chunks made with a model, after a key in key order, within a filter, at most `limit`. */
export function buildEmbeddingScanSql(
  model: string,
  filter: EmbeddingFilter,
  after: EmbeddingKey | null,
  limit: number,
  dialect: SqlPlaceholders,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  const where = [`s.model = ${bind(model)}`];
  if (filter.agentId !== undefined) where.push(`c.agent_id = ${bind(filter.agentId)}`);
  if (filter.branchId !== undefined) where.push(`c.branch_id = ${bind(filter.branchId)}`);
  if (after) {
    where.push(
      `(m.conversation_id, m.transcript_index, m.chunk) > (${bind(after.conversationId)}, ${bind(after.transcriptIndex)}, ${bind(after.chunk)})`,
    );
  }
  const sql = `SELECT m.conversation_id, m.transcript_index, m.chunk, m.chunk_text, m.vector, c.start_time, c.agent_id
    FROM message_embeddings m
    JOIN embedding_state s ON s.conversation_id = m.conversation_id
    JOIN conversations c ON c.conversation_id = m.conversation_id
    WHERE ${where.join(" AND ")}
    ORDER BY m.conversation_id, m.transcript_index, m.chunk LIMIT ${bind(limit)}`;
  return { sql, params };
}
