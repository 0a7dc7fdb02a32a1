import type pg from "pg";
import type { ListQuery } from "../../domain/list-query.js";
import { buildCandidateSql } from "../list-sql.js";
import type {
  CandidateConversation,
  CandidatePosition,
  EmbeddedChunk,
  EmbeddingFilter,
  EmbeddingKey,
  EmbeddingRow,
  MessageSearchStore,
  PendingEmbedding,
} from "../message-search-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";
import { postgresListDialect } from "./postgres-conversation-store.js";

/** Message search in PostgreSQL: candidates through the list query's conditions, embeddings as `real[]`. */
export class PostgresMessageSearchStore implements MessageSearchStore {
  constructor(private readonly pool: pg.Pool) {}

  async findCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
  ): Promise<CandidateConversation[]> {
    const { sql, params } = buildCandidateSql(query, from, limit, postgresListDialect);
    const result = await this.pool.query<{
      conversation_id: string;
      start_time: number;
      agent_id: string;
      doc: string;
    }>(sql, params.map(toPgText));
    return result.rows.map((r) => ({
      conversationId: r.conversation_id,
      startTime: r.start_time,
      agentId: r.agent_id,
      json: r.doc,
    }));
  }

  async findPendingEmbeddings(model: string, limit: number): Promise<PendingEmbedding[]> {
    // As in SQLite: another model, an older document, or embedded in the second of the last write.
    const result = await this.pool.query<{
      conversation_id: string;
      doc: string;
      updated_at: number;
      text_hash: string | null;
      model: string | null;
    }>(
      `SELECT c.conversation_id, c.doc, c.updated_at, e.text_hash, e.model
       FROM conversations c LEFT JOIN embedding_state e ON e.conversation_id = c.conversation_id
       WHERE e.conversation_id IS NULL OR e.model <> $1 OR e.source_updated_at <> c.updated_at
         OR e.embedded_at <= c.updated_at
       ORDER BY c.conversation_id LIMIT $2`,
      [model, limit],
    );
    return result.rows.map((r) => ({
      conversationId: r.conversation_id,
      json: r.doc,
      updatedAt: r.updated_at,
      textHash: r.text_hash,
      model: r.model,
    }));
  }

  async replaceEmbeddings(
    conversationId: string,
    state: { model: string; updatedAt: number; textHash: string },
    rows: readonly EmbeddingRow[] | null,
  ): Promise<boolean> {
    const id = toPgText(conversationId);
    return inTransaction(this.pool, async (client) => {
      const current = await client.query<{ updated_at: number }>(
        "SELECT updated_at FROM conversations WHERE conversation_id = $1 FOR SHARE",
        [id],
      );
      if (current.rows[0]?.updated_at !== state.updatedAt) {
        return false;
      }
      if (rows) {
        await client.query("DELETE FROM message_embeddings WHERE conversation_id = $1", [id]);
        if (rows.length > 0) {
          await client.query(
            `INSERT INTO message_embeddings (conversation_id, transcript_index, chunk, chunk_text, vector)
           SELECT $1, u.i, u.c, u.t, string_to_array(u.v, ',')::real[]
           FROM unnest($2::int[], $3::int[], $4::text[], $5::text[]) AS u(i, c, t, v)`,
            [
              id,
              rows.map((r) => r.transcriptIndex),
              rows.map((r) => r.chunk),
              rows.map((r) => toPgText(r.chunkText)),
              rows.map((r) => Array.from(r.vector).join(",")),
            ],
          );
        }
      }
      await client.query(
        `INSERT INTO embedding_state (conversation_id, model, source_updated_at, text_hash, embedded_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (conversation_id) DO UPDATE SET model = excluded.model,
         source_updated_at = excluded.source_updated_at, text_hash = excluded.text_hash,
         embedded_at = excluded.embedded_at`,
        [id, state.model, state.updatedAt, state.textHash, Math.floor(Date.now() / 1000)],
      );
      return true;
    });
  }

  async scanEmbeddings(
    model: string,
    filter: EmbeddingFilter,
    after: EmbeddingKey | null,
    limit: number,
  ): Promise<EmbeddedChunk[]> {
    const params: unknown[] = [model];
    const bind = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ["s.model = $1"];
    if (filter.agentId !== undefined) where.push(`c.agent_id = ${bind(toPgText(filter.agentId))}`);
    if (filter.branchId !== undefined) where.push(`c.branch_id = ${bind(toPgText(filter.branchId))}`);
    if (after) {
      where.push(
        `(m.conversation_id, m.transcript_index, m.chunk) > (${bind(toPgText(after.conversationId))}, ${bind(after.transcriptIndex)}, ${bind(after.chunk)})`,
      );
    }
    const result = await this.pool.query<{
      conversation_id: string;
      transcript_index: number;
      chunk: number;
      chunk_text: string;
      vector: number[];
      start_time: number;
      agent_id: string;
    }>(
      `SELECT m.conversation_id, m.transcript_index, m.chunk, m.chunk_text, m.vector, c.start_time, c.agent_id
       FROM message_embeddings m
       JOIN embedding_state s ON s.conversation_id = m.conversation_id
       JOIN conversations c ON c.conversation_id = m.conversation_id
       WHERE ${where.join(" AND ")}
       ORDER BY m.conversation_id, m.transcript_index, m.chunk LIMIT ${bind(limit)}`,
      params,
    );
    return result.rows.map((r) => ({
      conversationId: r.conversation_id,
      transcriptIndex: r.transcript_index,
      chunk: r.chunk,
      chunkText: r.chunk_text,
      vector: Float32Array.from(r.vector.map(Number)),
      startTime: r.start_time,
      agentId: r.agent_id,
    }));
  }

  async countEmbeddedConversations(model: string): Promise<number> {
    const result = await this.pool.query<{ n: number }>(
      "SELECT count(*) AS n FROM embedding_state WHERE model = $1",
      [model],
    );
    return result.rows[0]?.n ?? 0;
  }
}
