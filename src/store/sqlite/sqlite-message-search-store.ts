import type BetterSqlite3 from "better-sqlite3";
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
  EmbeddedChunk,
  EmbeddingFilter,
  EmbeddingKey,
  EmbeddingRow,
  EmbeddingState,
  MessageSearchStore,
  PendingEmbedding,
} from "../message-search-store.js";
import { sqliteListDialect } from "./sqlite-list-dialect.js";

/** A float32 vector as the bytes of a BLOB (and back). */
function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

function fromBlob(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer, 0, Math.floor(blob.byteLength / 4));
}

/** Message search in SQLite: candidates through the list query's conditions, embeddings as float32 BLOBs. */
export class SqliteMessageSearchStore implements MessageSearchStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async findCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
  ): Promise<CandidateConversation[]> {
    const { sql, params } = buildCandidateSql(query, from, limit, sqliteListDialect);
    const rows = this.db.prepare(sql).all(...params) as CandidateDbRow[];
    return rows.map(toCandidate);
  }

  async findPendingEmbeddings(model: string, limit: number): Promise<PendingEmbedding[]> {
    const { sql, params } = buildPendingEmbeddingsSql(model, limit, sqliteListDialect);
    const rows = this.db.prepare(sql).all(...params) as PendingEmbeddingDbRow[];
    return rows.map(toPendingEmbedding);
  }

  async replaceEmbeddings(
    conversationId: string,
    state: EmbeddingState,
    rows: readonly EmbeddingRow[] | null,
  ): Promise<boolean> {
    return this.db
      .transaction(() => {
        const current = this.db
          .prepare("SELECT updated_at FROM conversations WHERE conversation_id = ?")
          .get(conversationId) as { updated_at: number } | undefined;
        if (!current || current.updated_at !== state.updatedAt) return false;
        if (rows) {
          this.db.prepare("DELETE FROM message_embeddings WHERE conversation_id = ?").run(conversationId);
          const insert = this.db.prepare(
            "INSERT INTO message_embeddings (conversation_id, transcript_index, chunk, chunk_text, vector) VALUES (?, ?, ?, ?, ?)",
          );
          for (const row of rows) {
            insert.run(conversationId, row.transcriptIndex, row.chunk, row.chunkText, toBlob(row.vector));
          }
        }
        const now = Math.floor(Date.now() / 1000);
        const recorded = buildEmbeddingStateSql(conversationId, state, now, sqliteListDialect);
        this.db.prepare(recorded.sql).run(...recorded.params);
        return true;
      })
      .immediate();
  }

  async scanEmbeddings(
    model: string,
    filter: EmbeddingFilter,
    after: EmbeddingKey | null,
    limit: number,
  ): Promise<EmbeddedChunk[]> {
    const { sql, params } = buildEmbeddingScanSql(model, filter, after, limit, sqliteListDialect);
    const rows = this.db.prepare(sql).all(...params) as EmbeddedChunkDbRow<Buffer>[];
    return rows.map((r) => toEmbeddedChunk(r, fromBlob));
  }

  async countEmbeddedConversations(model: string): Promise<number> {
    return (
      this.db.prepare("SELECT count(*) AS n FROM embedding_state WHERE model = ?").get(model) as { n: number }
    ).n;
  }
}
