import type pg from "pg";
import type { ListQuery } from "../../domain/list-query.js";
import {
  buildEmbeddingScanSql,
  buildEmbeddingStateSql,
  buildPendingEmbeddingsSql,
} from "../embedding-sql.js";
import { buildCandidateSql } from "../list-sql.js";
import {
  type CandidateDbRow,
  type EmbeddedChunkDbRow,
  type PendingEmbeddingDbRow,
  toCandidate,
  toEmbeddedChunk,
  toPendingEmbedding,
} from "../message-search-db-rows.js";
import type {
  CandidateConversation,
  CandidatePosition,
  CandidateWalk,
  EmbeddedChunk,
  EmbeddingFilter,
  EmbeddingKey,
  EmbeddingRow,
  EmbeddingState,
  MessageSearchStore,
  PendingEmbedding,
} from "../message-search-store.js";
import { toPgText } from "./pg-text.js";
import { inTransaction } from "./pg-transaction.js";
import { postgresListDialect } from "./postgres-list-dialect.js";

/** Reads a `real[]` (numbers, or numeric strings) as a float32 vector. */
function fromPgArray(values: number[]): Float32Array {
  return Float32Array.from(values.map(Number));
}

/** Message search in PostgreSQL: candidates through the list query's conditions, embeddings as `real[]`. */
export class PostgresMessageSearchStore implements MessageSearchStore {
  constructor(private readonly pool: pg.Pool) {}

  async findCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
  ): Promise<CandidateConversation[]> {
    const { sql, params } = buildCandidateSql(query, from, limit, postgresListDialect);
    const result = await this.pool.query<CandidateDbRow>(sql, params.map(toPgText));
    return result.rows.map(toCandidate);
  }

  /**
   * One statement: the trigram index answers the words (PostgreSQL works off the event loop), so
   * the walk never stops at its budget; what it read counts as examined.
   */
  async walkCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
    _budget: number,
  ): Promise<CandidateWalk> {
    const candidates = await this.findCandidates(query, from, limit);
    return { candidates, examined: candidates.length, resume: null };
  }

  async findPendingEmbeddings(model: string, limit: number): Promise<PendingEmbedding[]> {
    const { sql, params } = buildPendingEmbeddingsSql(model, limit, postgresListDialect);
    const result = await this.pool.query<PendingEmbeddingDbRow>(sql, params.map(toPgText));
    return result.rows.map(toPendingEmbedding);
  }

  async replaceEmbeddings(
    conversationId: string,
    state: EmbeddingState,
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
      const now = Math.floor(Date.now() / 1000);
      const recorded = buildEmbeddingStateSql(conversationId, state, now, postgresListDialect);
      await client.query(recorded.sql, recorded.params.map(toPgText));
      return true;
    });
  }

  async scanEmbeddings(
    model: string,
    filter: EmbeddingFilter,
    after: EmbeddingKey | null,
    limit: number,
  ): Promise<EmbeddedChunk[]> {
    const { sql, params } = buildEmbeddingScanSql(model, filter, after, limit, postgresListDialect);
    const result = await this.pool.query<EmbeddedChunkDbRow<number[]>>(sql, params.map(toPgText));
    return result.rows.map((r) => toEmbeddedChunk(r, fromPgArray));
  }

  async countEmbeddedConversations(model: string): Promise<number> {
    const result = await this.pool.query<{ n: number }>(
      "SELECT count(*) AS n FROM embedding_state WHERE model = $1",
      [model],
    );
    return result.rows[0]?.n ?? 0;
  }
}
