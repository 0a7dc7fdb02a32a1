import type BetterSqlite3 from "better-sqlite3";
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
import { sqliteListDialect } from "./sqlite-conversation-store.js";

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
    const rows = this.db.prepare(sql).all(...params) as {
      conversation_id: string;
      start_time: number;
      agent_id: string;
      doc: string;
    }[];
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      startTime: r.start_time,
      agentId: r.agent_id,
      json: r.doc,
    }));
  }

  async findPendingEmbeddings(model: string, limit: number): Promise<PendingEmbedding[]> {
    // Made with another model, or from an older document; an embedding made in the same second
    // as the last write is checked again (a write later in that second has the same updated_at).
    const rows = this.db
      .prepare(
        `SELECT c.conversation_id, c.doc, c.updated_at, e.text_hash, e.model
         FROM conversations c LEFT JOIN embedding_state e ON e.conversation_id = c.conversation_id
         WHERE e.conversation_id IS NULL OR e.model <> ? OR e.source_updated_at <> c.updated_at
           OR e.embedded_at <= c.updated_at
         ORDER BY c.conversation_id LIMIT ?`,
      )
      .all(model, limit) as {
      conversation_id: string;
      doc: string;
      updated_at: number;
      text_hash: string | null;
      model: string | null;
    }[];
    return rows.map((r) => ({
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
        this.db
          .prepare(
            `INSERT INTO embedding_state (conversation_id, model, source_updated_at, text_hash, embedded_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (conversation_id) DO UPDATE SET model = excluded.model,
               source_updated_at = excluded.source_updated_at, text_hash = excluded.text_hash,
               embedded_at = excluded.embedded_at`,
          )
          .run(conversationId, state.model, state.updatedAt, state.textHash, Math.floor(Date.now() / 1000));
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
    const where = ["s.model = ?"];
    const params: unknown[] = [model];
    if (filter.agentId !== undefined) {
      where.push("c.agent_id = ?");
      params.push(filter.agentId);
    }
    if (filter.branchId !== undefined) {
      where.push("c.branch_id = ?");
      params.push(filter.branchId);
    }
    if (after) {
      where.push("(m.conversation_id, m.transcript_index, m.chunk) > (?, ?, ?)");
      params.push(after.conversationId, after.transcriptIndex, after.chunk);
    }
    params.push(limit);
    const rows = this.db
      .prepare(
        `SELECT m.conversation_id, m.transcript_index, m.chunk, m.chunk_text, m.vector, c.start_time, c.agent_id
         FROM message_embeddings m
         JOIN embedding_state s ON s.conversation_id = m.conversation_id
         JOIN conversations c ON c.conversation_id = m.conversation_id
         WHERE ${where.join(" AND ")}
         ORDER BY m.conversation_id, m.transcript_index, m.chunk LIMIT ?`,
      )
      .all(...params) as {
      conversation_id: string;
      transcript_index: number;
      chunk: number;
      chunk_text: string;
      vector: Buffer;
      start_time: number;
      agent_id: string;
    }[];
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      transcriptIndex: r.transcript_index,
      chunk: r.chunk,
      chunkText: r.chunk_text,
      vector: fromBlob(r.vector),
      startTime: r.start_time,
      agentId: r.agent_id,
    }));
  }

  async countEmbeddedConversations(model: string): Promise<number> {
    return (
      this.db.prepare("SELECT count(*) AS n FROM embedding_state WHERE model = ?").get(model) as { n: number }
    ).n;
  }
}
