import type BetterSqlite3 from "better-sqlite3";
import { type ListQuery, tokenizeSearch } from "../../domain/list-query.js";
import {
  buildEmbeddingScanSql,
  buildEmbeddingStateSql,
  buildLabelLookupSql,
  buildLabelledVectorScanSql,
  buildLabelRangeLookupSql,
  buildPendingEmbeddingsSql,
} from "../embedding-sql.js";
import { buildCandidateSql } from "../list-sql.js";
import {
  type CandidateDbRow,
  type EmbeddedChunkDbRow,
  type LabelledChunkDbRow,
  type LabelledVectorDbRow,
  type PendingEmbeddingDbRow,
  toCandidate,
  toEmbeddedChunk,
  toLabelledChunk,
  toLabelledVector,
  toPendingEmbedding,
  toScannedLabel,
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
  EmbeddingWriteHorizon,
  LabelledChunk,
  LabelledVector,
  LabelRange,
  MessageSearchStore,
  PendingEmbedding,
  ScannedLabel,
} from "../message-search-store.js";
import { sqliteListDialect } from "./sqlite-list-dialect.js";
import { walkCandidateIndex } from "./walk-search-index.js";

/** A float32 vector as the bytes of a BLOB (and back). */
function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** Labels bound as one JSON array parameter, so one prepared statement serves any number of them. */
const SQLITE_LABEL_SET = (placeholder: string) => `IN (SELECT value FROM json_each(${placeholder}))`;
/** Label ranges bound as one JSON array of `[from, to]` pairs. */
const SQLITE_LABEL_RANGES = (placeholder: string) =>
  `(SELECT value ->> 0 AS lo, value ->> 1 AS hi FROM json_each(${placeholder})) r`;

function fromBlob(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer, 0, Math.floor(blob.byteLength / 4));
}

/**
 * Message search in SQLite: candidates by walking the search index newest first in bounded steps
 * (walk-search-index.ts), embeddings as float32 BLOBs.
 */
export class SqliteMessageSearchStore implements MessageSearchStore {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: BetterSqlite3.Database) {}

  /** Prepares a statement once per SQL text (the walk's statements differ only by their filters). */
  private prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= 200) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async findCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
  ): Promise<CandidateConversation[]> {
    return (await this.walkCandidates(query, from, limit, Number.POSITIVE_INFINITY)).candidates;
  }

  async walkCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
    budget: number,
  ): Promise<CandidateWalk> {
    const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
    if (tokens.length > 0) {
      return walkCandidateIndex((sql) => this.prepare(sql), query, tokens, from, limit, budget);
    }
    const { sql, params } = buildCandidateSql(query, from, limit, sqliteListDialect);
    const candidates = (this.prepare(sql).all(...params) as CandidateDbRow[]).map(toCandidate);
    return { candidates, examined: candidates.length, resume: null };
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

  async scanLabelledVectors(model: string, afterLabel: number, limit: number): Promise<ScannedLabel[]> {
    const { sql, params } = buildLabelledVectorScanSql(model, afterLabel, limit, sqliteListDialect);
    const rows = this.prepare(sql).all(...params) as LabelledVectorDbRow<Buffer | null>[];
    return rows.map((r) => toScannedLabel(r, fromBlob));
  }

  async findLabelledVectors(model: string, labels: readonly number[]): Promise<LabelledVector[]> {
    if (labels.length === 0) return [];
    const { sql, params } = buildLabelLookupSql(
      "vectors",
      model,
      SQLITE_LABEL_SET,
      JSON.stringify(labels),
      {},
      sqliteListDialect,
    );
    const rows = this.prepare(sql).all(...params) as LabelledVectorDbRow<Buffer>[];
    return rows.map((r) => toLabelledVector(r, fromBlob));
  }

  async findChunksByLabel(
    model: string,
    labels: readonly number[],
    filter: EmbeddingFilter,
  ): Promise<LabelledChunk[]> {
    if (labels.length === 0) return [];
    const { sql, params } = buildLabelLookupSql(
      "chunks",
      model,
      SQLITE_LABEL_SET,
      JSON.stringify(labels),
      filter,
      sqliteListDialect,
    );
    const rows = this.prepare(sql).all(...params) as LabelledChunkDbRow<Buffer>[];
    return rows.map((r) => toLabelledChunk(r, fromBlob));
  }

  async countEmbeddings(model: string): Promise<number> {
    const row = this.prepare(`SELECT count(*) AS n FROM message_embeddings m
      JOIN embedding_state s ON s.conversation_id = m.conversation_id WHERE s.model = ?`).get(model) as {
      n: number;
    };
    return row.n;
  }

  async findLabelledVectorsInRanges(model: string, ranges: readonly LabelRange[]): Promise<LabelledVector[]> {
    if (ranges.length === 0) return [];
    const { sql, params } = buildLabelRangeLookupSql(
      model,
      SQLITE_LABEL_RANGES,
      JSON.stringify(ranges),
      sqliteListDialect,
    );
    const rows = this.prepare(sql).all(...params) as LabelledVectorDbRow<Buffer>[];
    return rows.map((r) => toLabelledVector(r, fromBlob));
  }

  async embeddingWriteHorizon(): Promise<EmbeddingWriteHorizon | null> {
    // One writer at a time: labels are handed out and committed in order.
    return null;
  }

  async highestEmbeddingLabel(): Promise<number> {
    // AUTOINCREMENT records the highest label ever handed out, even once its row is deleted.
    const row = this.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'message_embeddings'").get() as
      | { seq: number }
      | undefined;
    return row?.seq ?? 0;
  }
}
