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
  fence: "none" | "ordered-subquery" = "none",
): SqlQuery {
  const { params, bind } = createParams(dialect);
  if (fence === "ordered-subquery")
    return buildFencedEmbeddingScanSql(model, filter, after, limit, bind, params);
  const where = [`s.model = ${bind(model)}`];
  if (filter.agentId !== undefined) where.push(`c.agent_id = ${bind(filter.agentId)}`);
  if (filter.branchId !== undefined) where.push(`c.branch_id = ${bind(filter.branchId)}`);
  if (after) {
    where.push(
      `(m.conversation_id, m.transcript_index, m.chunk) > (${bind(after.conversationId)}, ${bind(after.transcriptIndex)}, ${bind(after.chunk)})`,
    );
  }
  const sql = `SELECT m.label, m.conversation_id, m.transcript_index, m.chunk, m.chunk_text, m.vector, c.start_time, c.agent_id
    FROM message_embeddings m
    JOIN embedding_state s ON s.conversation_id = m.conversation_id
    JOIN conversations c ON c.conversation_id = m.conversation_id
    WHERE ${where.join(" AND ")}
    ORDER BY m.conversation_id, m.transcript_index, m.chunk LIMIT ${bind(limit)}`;
  return { sql, params };
}

/**
 * The same scan for PostgreSQL, with the embeddings read in key order first (a subquery that
 * `OFFSET 0` keeps the planner from flattening), then joined. Planned from the joins, the plain
 * statement can start from `embedding_state` and probe the key range once per conversation: at a
 * million vectors one batch took minutes, where this reads a batch's rows and stops.
 */
function buildFencedEmbeddingScanSql(
  model: string,
  filter: EmbeddingFilter,
  after: EmbeddingKey | null,
  limit: number,
  bind: (value: unknown) => string,
  params: unknown[],
): SqlQuery {
  const from = after
    ? `WHERE (conversation_id, transcript_index, chunk) > (${bind(after.conversationId)}, ${bind(after.transcriptIndex)}, ${bind(after.chunk)})`
    : "";
  const where = [`s.model = ${bind(model)}`];
  if (filter.agentId !== undefined) where.push(`c.agent_id = ${bind(filter.agentId)}`);
  if (filter.branchId !== undefined) where.push(`c.branch_id = ${bind(filter.branchId)}`);
  const sql = `SELECT m.label, m.conversation_id, m.transcript_index, m.chunk, m.chunk_text, m.vector, c.start_time, c.agent_id
    FROM (SELECT label, conversation_id, transcript_index, chunk, chunk_text, vector FROM message_embeddings ${from}
      ORDER BY conversation_id, transcript_index, chunk OFFSET 0) m
    JOIN embedding_state s ON s.conversation_id = m.conversation_id
    JOIN conversations c ON c.conversation_id = m.conversation_id
    WHERE ${where.join(" AND ")}
    ORDER BY m.conversation_id, m.transcript_index, m.chunk LIMIT ${bind(limit)}`;
  return { sql, params };
}

/**
 * The embeddings whose label is above `afterLabel`, in label order, at most `limit`, with the
 * vector only for those made with the model (null for another): what the ANN index is built and
 * caught up from. The labels' rows are read first (a materialized CTE), so the plan is a range of
 * the label index whatever the row estimates of the joined table.
 */
export function buildLabelledVectorScanSql(
  model: string,
  afterLabel: number,
  limit: number,
  dialect: SqlPlaceholders,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  const sql = `WITH m AS MATERIALIZED (
      SELECT label, conversation_id, vector FROM message_embeddings
      WHERE label > ${bind(afterLabel)} ORDER BY label LIMIT ${bind(limit)})
    SELECT m.label, CASE WHEN s.model = ${bind(model)} THEN m.vector END AS vector
    FROM m LEFT JOIN embedding_state s ON s.conversation_id = m.conversation_id
    ORDER BY m.label`;
  return { sql, params };
}

/**
 * The rows among some labels that exist and were made with a model. `labelSet` is the backend's
 * way of testing membership in one bound parameter (`IN (SELECT value FROM json_each(?))`,
 * `= ANY($1::bigint[])`), so the statement is the same for any number of labels.
 */
export function buildLabelLookupSql(
  columns: "vectors" | "chunks",
  model: string,
  labelSet: (placeholder: string) => string,
  labels: unknown,
  filter: EmbeddingFilter,
  dialect: SqlPlaceholders,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  // The labels' rows first (a materialized CTE: the planner never starts from the joined tables,
  // whose row estimates can be far off), then what they are checked against.
  const rows = `WITH m AS MATERIALIZED (SELECT * FROM message_embeddings WHERE label ${labelSet(bind(labels))})`;
  const where = [`s.model = ${bind(model)}`];
  if (columns === "vectors") {
    const sql = `${rows} SELECT m.label, m.vector FROM m
    JOIN embedding_state s ON s.conversation_id = m.conversation_id
    WHERE ${where.join(" AND ")}`;
    return { sql, params };
  }
  if (filter.agentId !== undefined) where.push(`c.agent_id = ${bind(filter.agentId)}`);
  if (filter.branchId !== undefined) where.push(`c.branch_id = ${bind(filter.branchId)}`);
  const sql = `${rows} SELECT m.label, m.conversation_id, m.transcript_index, m.chunk, m.chunk_text, m.vector,
      c.start_time, c.agent_id
    FROM m
    JOIN embedding_state s ON s.conversation_id = m.conversation_id
    JOIN conversations c ON c.conversation_id = m.conversation_id
    WHERE ${where.join(" AND ")}`;
  return { sql, params };
}

/**
 * The rows made with a model whose label is within one of some ranges. `rangeRows` is the
 * backend's way of reading the ranges (`[[from, to], …]` as one JSON parameter) as rows `r(lo, hi)`.
 */
export function buildLabelRangeLookupSql(
  model: string,
  rangeRows: (placeholder: string) => string,
  ranges: string,
  dialect: SqlPlaceholders,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  const sql = `WITH m AS MATERIALIZED (
      SELECT e.label, e.conversation_id, e.vector FROM ${rangeRows(bind(ranges))}
      JOIN message_embeddings e ON e.label >= r.lo AND e.label < r.hi)
    SELECT m.label, m.vector FROM m
    JOIN embedding_state s ON s.conversation_id = m.conversation_id
    WHERE s.model = ${bind(model)}`;
  return { sql, params };
}
