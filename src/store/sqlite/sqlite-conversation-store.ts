import type BetterSqlite3 from "better-sqlite3";
import type { ConversationRecord, Facet } from "../../domain/conversation.js";
import { type ListPage, type ListQuery, tokenizeSearch } from "../../domain/list-query.js";
import { SERVED_TAILS } from "../../domain/stored-document.js";
import { type AudioDbRow, audioAssignments, audioColumns, audioValues, toAudio } from "../audio-columns.js";
import type { AudioInfo } from "../audio-info.js";
import { type ListDbRow, toListPage } from "../db-rows.js";
import { buildListSql } from "../list-sql.js";
import {
  type ConversationStore,
  type DeletedConversation,
  type ListRow,
  type PutOutcome,
  type QueuedDeliveries,
  RecordsRefusedError,
  type ScannedConversation,
  type ServedConversationBytes,
  type StoredConversation,
  type UpsertOutcome,
} from "../store.js";
import { SqliteOutbox } from "./outbox-sql.js";
import { SORT_KEY_SLOTS, sortKeyCandidates } from "./sort-key.js";
import { sqliteListDialect } from "./sqlite-list-dialect.js";
import { walkSearchIndex } from "./walk-search-index.js";

/**
 * The database refusing the records themselves (a constraint, a value too big or of the wrong
 * type) as RecordsRefusedError; anything else (busy, full, I/O) as it was, since a smaller
 * batch would not fare better. A NOT NULL violation is a record the code built wrong (a valid
 * document fills every required column), not a bad document: it stays as it was too.
 */
function refusedRecords(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  const refused =
    typeof code === "string" &&
    ((code.startsWith("SQLITE_CONSTRAINT") && code !== "SQLITE_CONSTRAINT_NOTNULL") ||
      code === "SQLITE_TOOBIG" ||
      code === "SQLITE_MISMATCH");
  return refused ? new RecordsRefusedError(error) : error;
}

/** The audio columns, as every statement that reads them lists them. */
const AUDIO = audioColumns();
/**
 * The served document (`renderStoredDocument`), made by the SELECT that reads the row: the stored
 * UTF-8 bytes without their closing `}`, then the tail the row's audio columns pick, cast to BLOB so
 * it arrives as one Buffer, never decoded to a JS string. Rendering it in JavaScript took a second
 * buffer of the document's size a request (Buffer.concat); with documents of ~15 KB at 20,000 reads a
 * second, that external memory set off a full collection about every 0.1 s (docs/design-notes.md,
 * "Memory outside the heap"). Byte arithmetic on the BLOB keeps multibyte characters whole: only
 * the last byte, an ASCII `}`, is cut.
 */
const SERVED_BYTES = (() => {
  const tailIndex =
    "(CASE WHEN audio_key IS NULL THEN 0 ELSE 4 + 2 * (user_audio_key IS NOT NULL) + (agent_audio_key IS NOT NULL) END)";
  const tails = SERVED_TAILS.map((tail, i) => `WHEN ${i} THEN '${tail}'`).join(" ");
  const tail = `(CASE ${tailIndex} ${tails} END)`;
  const bytes = "CAST(doc AS BLOB)";
  return (
    `CAST(CASE WHEN length(${bytes}) > 2 THEN substr(${bytes}, 1, length(${bytes}) - 1) || ${tail} ` +
    `ELSE '{' || substr(${tail}, 2) END AS BLOB)`
  );
})();
/** The audio columns' assignments, in `audioValues` order. */
const SET_AUDIO = audioAssignments(() => "?");

/** A conversation row's written columns, by name. */
interface RowValues {
  conversation_id: string;
  sort_key: number;
  agent_id: string;
  status: string;
  start_time: number;
  duration: number;
  call_successful: string;
  user_id: string | null;
  branch_id: string | null;
  version_id: string | null;
  main_language: string | null;
  initiation_source: string | null;
  text_only: 0 | 1 | null;
  rating: number | null;
  has_feedback_comment: 0 | 1;
  parent_conversation_id: string | null;
  conversation_product: string | null;
  doc: string;
  list_item: string;
  transcript_summary: string | null;
  eval_results: string | null;
  data_results: string | null;
  updated_at: number;
}

type RowColumn = keyof RowValues;

/** The columns an insert writes. */
const INSERTED: readonly RowColumn[] = [
  "conversation_id",
  "sort_key",
  "agent_id",
  "status",
  "start_time",
  "duration",
  "call_successful",
  "user_id",
  "branch_id",
  "version_id",
  "main_language",
  "initiation_source",
  "text_only",
  "rating",
  "has_feedback_comment",
  "parent_conversation_id",
  "conversation_product",
  "doc",
  "list_item",
  "transcript_summary",
  "eval_results",
  "data_results",
  "updated_at",
];
/** The columns an update writes (the id stays). */
const UPDATED = INSERTED.filter((column) => column !== "conversation_id");
/** The columns an index reads: the id, the sort key, and those `sameIndexedColumns` compares. */
const INDEXED: ReadonlySet<RowColumn> = new Set<RowColumn>([
  "conversation_id",
  "sort_key",
  "agent_id",
  "start_time",
  "user_id",
  "branch_id",
  "version_id",
  "parent_conversation_id",
]);
/** The columns of an update that leaves every indexed column as it is. */
const UNINDEXED = INSERTED.filter((column) => !INDEXED.has(column));

function assignments(columns: readonly RowColumn[]): string {
  return columns.map((column) => `${column} = ?`).join(", ");
}

/**
 * A row's values in `columns` order. The statements take positional parameters: better-sqlite3
 * binds named ones by looking each name up on the object, which allocates on every write.
 */
function valuesOf(row: RowValues, columns: readonly RowColumn[]): unknown[] {
  return columns.map((column) => row[column]);
}

/** Conversations in SQLite: one row per conversation, facet rows for the multi-valued filters, FTS5 for search. */
export class SqliteConversationStore implements ConversationStore {
  private readonly statements;
  /** Prepared list statements by SQL text: the shapes repeat, so preparing once pays. */
  private readonly prepared = new Map<string, BetterSqlite3.Statement>();
  /** Where a write's outgoing webhook deliveries are queued, in the write's transaction. */
  private readonly outbox: SqliteOutbox;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.outbox = new SqliteOutbox(db);
    this.statements = {
      findExisting: db.prepare(
        `SELECT seq, sort_key, start_time, agent_id, user_id, branch_id, version_id, parent_conversation_id,
          ${AUDIO} FROM conversations WHERE conversation_id = ?`,
      ),
      sortKeyTaken: db.prepare("SELECT 1 FROM conversations WHERE sort_key = ?"),
      insert: db.prepare(
        `INSERT INTO conversations (${INSERTED.join(", ")}) VALUES (${INSERTED.map(() => "?").join(", ")})`,
      ),
      update: db.prepare(`UPDATE conversations SET ${assignments(UPDATED)} WHERE seq = ?`),
      // The update of a row whose indexed columns stay as they are (a live session's writes): SQLite
      // rewrites the entries of every index on a column an UPDATE assigns, changed or not.
      updateUnindexed: db.prepare(`UPDATE conversations SET ${assignments(UNINDEXED)} WHERE seq = ?`),
      facetsOf: db.prepare("SELECT kind, key, value, num FROM facets WHERE seq = ?"),
      deleteFacets: db.prepare("DELETE FROM facets WHERE seq = ?"),
      insertFacet: db.prepare(
        "INSERT OR IGNORE INTO facets (seq, kind, key, value, num) VALUES (?, ?, ?, ?, ?)",
      ),
      deleteText: db.prepare("DELETE FROM conversation_text WHERE rowid = ?"),
      insertText: db.prepare("INSERT INTO conversation_text (rowid, body) VALUES (?, ?)"),
      get: db.prepare(`SELECT doc, ${AUDIO} FROM conversations WHERE conversation_id = ?`),
      getServed: db.prepare(
        `SELECT ${SERVED_BYTES} AS bytes, ${AUDIO} FROM conversations WHERE conversation_id = ?`,
      ),
      getForDelete: db.prepare(`SELECT seq, sort_key, ${AUDIO} FROM conversations WHERE conversation_id = ?`),
      delete: db.prepare("DELETE FROM conversations WHERE seq = ?"),
      fileBlobKeys: db.prepare("SELECT blob_key FROM conversation_files WHERE conversation_id = ?"),
      getAudio: db.prepare(`SELECT ${AUDIO} FROM conversations WHERE conversation_id = ?`),
      setAudio: db.prepare(`UPDATE conversations SET ${SET_AUDIO}, updated_at = ? WHERE conversation_id = ?`),
      count: db.prepare("SELECT count(*) AS n FROM conversations"),
      scanFirst: db.prepare(
        `SELECT conversation_id, doc, ${AUDIO} FROM conversations ORDER BY conversation_id LIMIT ?`,
      ),
      scanAfter: db.prepare(
        `SELECT conversation_id, doc, ${AUDIO} FROM conversations WHERE conversation_id > ? ORDER BY conversation_id LIMIT ?`,
      ),
    };
  }

  private prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      if (this.prepared.size > 500) this.prepared.clear();
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  /** Picks a free sort key for a start time (see sort-key.ts). */
  private freeSortKey(startTime: number, conversationId: string): number {
    for (const key of sortKeyCandidates(startTime, conversationId)) {
      if (!this.statements.sortKeyTaken.get(key)) return key;
    }
    throw new Error(
      `More than ${SORT_KEY_SLOTS} conversations start in the same second as ${conversationId}.`,
    );
  }

  /**
   * Writes one record's row and facets; must run inside a transaction. Its search text is
   * queued for `writeSearchText`.
   */
  private writeRecord(record: ConversationRecord, now: number, texts: Map<number, string>): PutOutcome {
    const s = this.statements;
    const i = record.index;
    const existing = s.findExisting.get(i.conversationId) as (AudioDbRow & ExistingRow) | undefined;
    const sameSecond = existing && Math.floor(existing.start_time) === Math.floor(i.startTime);
    if (existing) {
      s.deleteText.run(existing.sort_key);
      texts.delete(existing.sort_key); // the same id earlier in this batch
    }
    const sortKey =
      existing && sameSecond ? existing.sort_key : this.freeSortKey(i.startTime, i.conversationId);
    const row: RowValues = {
      conversation_id: i.conversationId,
      sort_key: sortKey,
      agent_id: i.agentId,
      status: i.status,
      start_time: i.startTime,
      duration: i.duration,
      call_successful: i.callSuccessful,
      user_id: i.userId,
      branch_id: i.branchId,
      version_id: i.versionId,
      main_language: i.mainLanguage,
      initiation_source: i.initiationSource,
      text_only: i.textOnly === null ? null : i.textOnly ? 1 : 0,
      rating: i.rating,
      has_feedback_comment: i.hasFeedbackComment ? 1 : 0,
      parent_conversation_id: i.parentConversationId,
      conversation_product: i.conversationProduct,
      doc: record.json,
      list_item: record.listItemJson,
      transcript_summary: record.transcriptSummary,
      eval_results: record.evaluationResultsJson,
      data_results: record.dataCollectionResultsJson,
      updated_at: now,
    };
    let seq: number;
    let facetsStored = false;
    if (existing) {
      seq = existing.seq;
      const unindexed = sortKey === existing.sort_key && sameIndexedColumns(existing, i);
      (unindexed ? s.updateUnindexed : s.update).run(...valuesOf(row, unindexed ? UNINDEXED : UPDATED), seq);
      facetsStored = sameFacets(s.facetsOf.all(seq) as Facet[], record.facets);
      if (!facetsStored) s.deleteFacets.run(seq);
    } else {
      seq = Number(s.insert.run(...valuesOf(row, INSERTED)).lastInsertRowid);
    }
    if (!facetsStored) for (const f of record.facets) s.insertFacet.run(seq, f.kind, f.key, f.value, f.num);
    if (record.searchText.length > 0) texts.set(sortKey, record.searchText);
    return existing ? { outcome: "replaced", audio: toAudio(existing) } : { outcome: "created", audio: null };
  }

  /**
   * Adds queued search texts in ascending key order: FTS5 buffers a transaction's rows in memory
   * only while rowids ascend, and flushes to disk whenever one goes down.
   */
  private writeSearchText(texts: Map<number, string>): void {
    const sorted = [...texts].sort((a, b) => a[0] - b[0]);
    for (const [key, text] of sorted) this.statements.insertText.run(key, text);
  }

  async upsertConversations(
    records: readonly ConversationRecord[],
    deliveries?: QueuedDeliveries,
  ): Promise<UpsertOutcome[]> {
    // Set once the records are written: an error past it is the outbox's, not the records' fault.
    let recordsWritten = false;
    const write = this.db.transaction((batch: readonly ConversationRecord[]) => {
      const now = Math.floor(Date.now() / 1000);
      const texts = new Map<number, string>();
      const outcomes = batch.map((record) => this.writeRecord(record, now, texts).outcome);
      this.writeSearchText(texts);
      recordsWritten = true;
      if (deliveries !== undefined && deliveries.length > 0) this.outbox.insertDeliveries(deliveries);
      return outcomes;
    });
    try {
      return write.immediate(records);
    } catch (error) {
      throw recordsWritten ? error : refusedRecords(error);
    }
  }

  async putConversation(record: ConversationRecord, deliveries?: QueuedDeliveries): Promise<PutOutcome> {
    const write = this.db.transaction(() => {
      const texts = new Map<number, string>();
      const written = this.writeRecord(record, Math.floor(Date.now() / 1000), texts);
      this.writeSearchText(texts);
      if (deliveries !== undefined && deliveries.length > 0) this.outbox.insertDeliveries(deliveries);
      return written;
    });
    return write.immediate();
  }

  async updateConversation(
    conversationId: string,
    change: (json: string) => ConversationRecord,
    deliveries?: QueuedDeliveries,
  ): Promise<ConversationRecord | undefined> {
    return this.db
      .transaction(() => {
        const row = this.statements.get.get(conversationId) as { doc: string } | undefined;
        if (!row) return undefined;
        const record = change(row.doc);
        const texts = new Map<number, string>();
        this.writeRecord(record, Math.floor(Date.now() / 1000), texts);
        this.writeSearchText(texts);
        if (deliveries !== undefined && deliveries.length > 0) this.outbox.insertDeliveries(deliveries);
        return record;
      })
      .immediate();
  }

  async getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    const row = this.statements.get.get(conversationId) as (AudioDbRow & { doc: string }) | undefined;
    return row ? { json: row.doc, audio: toAudio(row) } : undefined;
  }

  async getServedConversationBytes(conversationId: string): Promise<ServedConversationBytes | undefined> {
    const row = this.statements.getServed.get(conversationId) as (AudioDbRow & { bytes: Buffer }) | undefined;
    return row ? { bytes: row.bytes, audio: toAudio(row) } : undefined;
  }

  async listConversations(query: ListQuery): Promise<ListPage<ListRow>> {
    const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
    if (tokens.length > 0) return walkSearchIndex((sql) => this.prepare(sql), query, tokens);
    const { sql, params } = buildListSql(query, sqliteListDialect);
    return toListPage(this.prepare(sql).all(...params) as ListDbRow[], query.pageSize);
  }

  async deleteConversation(conversationId: string): Promise<DeletedConversation | undefined> {
    const s = this.statements;
    return this.db
      .transaction(() => {
        const row = s.getForDelete.get(conversationId) as
          | (AudioDbRow & { seq: number; sort_key: number })
          | undefined;
        if (!row) return undefined;
        // Uploaded files' rows go with the conversation (ON DELETE CASCADE); their blobs are the caller's.
        const files = s.fileBlobKeys.all(conversationId) as { blob_key: string }[];
        s.deleteFacets.run(row.seq);
        s.deleteText.run(row.sort_key);
        s.delete.run(row.seq);
        const audio = toAudio(row);
        return files.length > 0 ? { audio, fileBlobKeys: files.map((f) => f.blob_key) } : { audio };
      })
      .immediate();
  }

  async setAudio(
    conversationId: string,
    audio: AudioInfo,
    deliveries?: QueuedDeliveries,
  ): Promise<{ replaced: AudioInfo | null } | undefined> {
    const s = this.statements;
    const now = Math.floor(Date.now() / 1000);
    return this.db
      .transaction(() => {
        const old = s.getAudio.get(conversationId) as AudioDbRow | undefined;
        if (!old) return undefined;
        s.setAudio.run(...audioValues(audio), now, conversationId);
        if (deliveries !== undefined && deliveries.length > 0) this.outbox.insertDeliveries(deliveries);
        return { replaced: toAudio(old) };
      })
      .immediate();
  }

  async countConversations(): Promise<number> {
    return (this.statements.count.get() as { n: number }).n;
  }

  async scanConversations(afterId: string | null, limit: number): Promise<ScannedConversation[]> {
    const rows = (
      afterId === null ? this.statements.scanFirst.all(limit) : this.statements.scanAfter.all(afterId, limit)
    ) as (AudioDbRow & { conversation_id: string; doc: string })[];
    return rows.map((r) => ({ conversationId: r.conversation_id, json: r.doc, audio: toAudio(r) }));
  }
}

/** What a write reads of the row it replaces. */
interface ExistingRow {
  seq: number;
  sort_key: number;
  start_time: number;
  agent_id: string;
  user_id: string | null;
  branch_id: string | null;
  version_id: string | null;
  parent_conversation_id: string | null;
}

/** Whether a record leaves every indexed column of its row as it is. */
function sameIndexedColumns(row: ExistingRow, index: ConversationRecord["index"]): boolean {
  return (
    row.start_time === index.startTime &&
    row.agent_id === index.agentId &&
    row.user_id === index.userId &&
    row.branch_id === index.branchId &&
    row.version_id === index.versionId &&
    row.parent_conversation_id === index.parentConversationId
  );
}

/** Whether the stored facet rows are exactly a record's (facets are unique by kind, key and value). */
function sameFacets(stored: readonly Facet[], facets: readonly Facet[]): boolean {
  if (stored.length !== facets.length) return false;
  const id = (f: Facet) => `${f.kind}\u0000${f.key}\u0000${f.value}`;
  const byId = new Map(stored.map((f) => [id(f), f.num]));
  return facets.every((f) => byId.has(id(f)) && byId.get(id(f)) === f.num);
}
