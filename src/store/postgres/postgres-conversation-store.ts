import type pg from "pg";
import type { ConversationRecord } from "../../domain/conversation.js";
import { type ListPage, type ListQuery, tokenizeSearch } from "../../domain/list-query.js";
import { renderStoredDocument } from "../../domain/stored-document.js";
import { type AudioDbRow, audioAssignments, audioColumns, audioValues, toAudio } from "../audio-columns.js";
import { type AudioInfo, audioFlagsOf } from "../audio-info.js";
import { type ListDbRow, toListPage } from "../db-rows.js";
import { type BoundedListDbRow, buildBoundedListSql, buildListSql, splitWalkFilters } from "../list-sql.js";
import { createParams } from "../sql-params.js";
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
import { insertDeliveries } from "./outbox-sql.js";
import { toPgText } from "./pg-text.js";
import { textArrayParam } from "./pg-text-array.js";
import { inTransaction, withoutStatementTimeout } from "./pg-transaction.js";
import { postgresListDialect, postgresMatchesDialect, postgresScanDialect } from "./postgres-list-dialect.js";

/** One conversation's document and audio columns, by id. */
const GET_CONVERSATION_SQL = `SELECT doc, ${audioColumns()} FROM conversations WHERE conversation_id = $1`;

/** A search matching fewer than this many conversations fetches its matches through the trigram index. */
const COMMON_SEARCH_MATCHES = 200;
/** The newest conversations a search is tried on, to tell how common its words are among them. */
const COMMON_SEARCH_SAMPLE = 200;
/**
 * Matches among the sample that make a search common (1 %): walking the start-time index then
 * reads about 100 conversations a result, less than fetching and sorting every match at a million.
 */
const COMMON_SEARCH_SAMPLE_MATCHES = 2;
/**
 * Rows of the sample a word alone must be in for the trigram index to be no help with it (5 %):
 * the index builds the bitmap of each of its trigrams, rows by the ten thousand at a million.
 */
const COMMON_WORD_SAMPLE_MATCHES = 10;
/** Conversations a bounded list walk reads at most for one page (see `listByBoundedWalk`). */
const BOUNDED_WALK_ROWS = 2_000;

/** Whether a list query filters on anything besides its search words. */
function hasFiltersBesidesSearch(query: ListQuery): boolean {
  const { pageSize: _size, cursor: _cursor, direction: _direction, search: _search, ...filters } = query;
  return Object.values(filters).some((value) =>
    Array.isArray(value) ? value.length > 0 : value !== undefined,
  );
}

/** One written column of `conversations`: its name, its array type for `unnest`, and its value. */
interface Column {
  name: string;
  type: string;
  value(record: ConversationRecord): unknown;
}

const COLUMNS: readonly Column[] = [
  { name: "conversation_id", type: "text", value: (r) => r.index.conversationId },
  { name: "agent_id", type: "text", value: (r) => r.index.agentId },
  { name: "status", type: "text", value: (r) => r.index.status },
  { name: "start_time", type: "float8", value: (r) => r.index.startTime },
  { name: "duration", type: "float8", value: (r) => r.index.duration },
  { name: "call_successful", type: "text", value: (r) => r.index.callSuccessful },
  { name: "user_id", type: "text", value: (r) => r.index.userId },
  { name: "branch_id", type: "text", value: (r) => r.index.branchId },
  { name: "version_id", type: "text", value: (r) => r.index.versionId },
  { name: "main_language", type: "text", value: (r) => r.index.mainLanguage },
  { name: "initiation_source", type: "text", value: (r) => r.index.initiationSource },
  { name: "text_only", type: "bool", value: (r) => r.index.textOnly },
  { name: "rating", type: "float8", value: (r) => r.index.rating },
  { name: "has_feedback_comment", type: "bool", value: (r) => r.index.hasFeedbackComment },
  { name: "parent_conversation_id", type: "text", value: (r) => r.index.parentConversationId },
  { name: "conversation_product", type: "text", value: (r) => r.index.conversationProduct },
  { name: "doc", type: "text", value: (r) => r.json },
  { name: "list_item", type: "text", value: (r) => r.listItemJson },
  { name: "transcript_summary", type: "text", value: (r) => r.transcriptSummary },
  { name: "eval_results", type: "text", value: (r) => r.evaluationResultsJson },
  { name: "data_results", type: "text", value: (r) => r.dataCollectionResultsJson },
  { name: "search_text", type: "text", value: (r) => r.searchText },
];

/**
 * Upserts a whole batch in one statement: one array parameter per column. Rows go in the order
 * given (sorted by id by the caller, so concurrent batches lock rows in the same order and cannot
 * deadlock). A replace keeps `seq` and the audio columns; `xmax = 0` tells a fresh insert.
 */
const UPSERT_SQL = (() => {
  const names = COLUMNS.map((c) => c.name);
  const arrays = COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`);
  const updatedAt = `$${COLUMNS.length + 1}::bigint`;
  return (
    `INSERT INTO conversations AS c (${names.join(", ")}, updated_at) ` +
    `SELECT ${names.map((n) => `u.${n}`).join(", ")}, ${updatedAt} ` +
    `FROM unnest(${arrays.join(", ")}) WITH ORDINALITY AS u(${names.join(", ")}, ord) ORDER BY u.ord ` +
    `ON CONFLICT (conversation_id) DO UPDATE SET ${names
      .slice(1)
      .map((n) => `${n} = excluded.${n}`)
      .join(", ")}, updated_at = excluded.updated_at ` +
    `RETURNING c.seq, c.conversation_id, (c.xmax = 0) AS inserted, ${audioColumns("c.")}`
  );
})();

/**
 * Switches a row's audio columns (the recording and its tracks, all at once) and returns the ones
 * it replaced: $1 the id, $2 the time, then the `audioValues`.
 */
const SET_AUDIO_SQL = `WITH old AS (
    SELECT seq, ${audioColumns()} FROM conversations WHERE conversation_id = $1 FOR UPDATE
  )
  UPDATE conversations c SET ${audioAssignments((i) => `$${i + 3}`)}, updated_at = $2
  FROM old WHERE c.seq = old.seq
  RETURNING ${audioColumns("old.")}`;

/** Facet rows have no unique index (long values are indexed by hash): the caller writes each once. */
const INSERT_FACETS_SQL =
  "INSERT INTO facets (seq, kind, key, value, num) " +
  "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::float8[])";

/**
 * The database refusing the records themselves as RecordsRefusedError: SQLSTATE classes 22 (data
 * exception), 23 (integrity constraint) and 54 (a limit, such as an index entry's size). Anything
 * else (a lost connection, a shutdown) as it was, since a smaller batch would not fare better. A
 * NOT NULL violation (23502) is a record the code built wrong (a valid document fills every
 * required column), not a bad document: it stays as it was too.
 */
function refusedRecords(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  const refused =
    typeof code === "string" &&
    code.length === 5 &&
    code !== "23502" &&
    ["22", "23", "54"].includes(code.slice(0, 2));
  return refused ? new RecordsRefusedError(error) : error;
}

/** Tries of a batch transaction that the server aborts as a deadlock or serialization failure. */
const BATCH_TRIES = 5;

/** 40P01 (deadlock detected) and 40001 (serialization failure): the transaction may simply run again. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "40P01" || code === "40001";
}

/**
 * Locks the dirty-day rows of a batch's finished conversations, the days they had and the days they
 * get, in day order and in one statement, before the upsert's triggers lock them (an INSERT
 * trigger, then an UPDATE trigger, each in day order but one after the other: two batches could
 * otherwise take two days in opposite order). $1 the ids, $2 the start times of the finished
 * records. The rows are marked dirty, as the triggers then mark them anyway.
 */
const LOCK_STATS_DAYS_SQL = `INSERT INTO stats_dirty_days AS d (day, generation)
  SELECT day, 1 FROM (
    SELECT floor(t / 86400)::integer AS day FROM unnest($2::float8[]) AS t
    UNION
    SELECT floor(start_time / 86400)::integer FROM conversations
      WHERE conversation_id = ANY($1::text[]) AND status IN ('done', 'failed')
  ) days WHERE day IS NOT NULL ORDER BY 1
  ON CONFLICT (day) DO UPDATE SET generation = d.generation + 1`;

/** The parameters of LOCK_STATS_DAYS_SQL for a batch. */
function statsDaysParams(records: readonly ConversationRecord[]): [Buffer, number[]] {
  const finished = records.filter((r) => r.index.status === "done" || r.index.status === "failed");
  return [
    textArrayParam(records.map((r) => toPgText(r.index.conversationId))),
    finished.map((r) => r.index.startTime),
  ];
}

/** Conversations in PostgreSQL: one row per conversation, facet rows for the multi-valued filters, trigram search. */
export class PostgresConversationStore implements ConversationStore {
  /** The `SET LOCAL` a batch write starts with, once known (see `batchSettings`). */
  private batchSetting: Promise<string | undefined> | undefined;

  constructor(private readonly pool: pg.Pool) {}

  /**
   * A batch's documents compressed with lz4 where the server has it: pglz took about 250 µs of
   * server time a conversation (an 11.5 KB document), lz4 about 100, for the same size within 2 %.
   * Reads decompress either; rows written before keep theirs. Asked once per store.
   */
  private batchSettings(): Promise<string | undefined> {
    this.batchSetting ??= this.pool
      .query<{ lz4: boolean }>(
        "SELECT 'lz4' = ANY (enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'",
      )
      .then(
        (result) => (result.rows[0]?.lz4 ? "SET LOCAL default_toast_compression = lz4" : undefined),
        () => {
          this.batchSetting = undefined;
          return undefined;
        },
      );
    return this.batchSetting;
  }

  async upsertConversations(
    records: readonly ConversationRecord[],
    deliveries?: QueuedDeliveries,
  ): Promise<UpsertOutcome[]> {
    if (records.length === 0) {
      if (deliveries && deliveries.length > 0) await insertDeliveries(this.pool, deliveries);
      return [];
    }
    const setting = await this.batchSettings();
    const days = statsDaysParams(records);
    for (let attempt = 1; ; attempt++) {
      // Set once the records are written: an error past it is the outbox's, not the records' fault.
      let recordsWritten = false;
      try {
        // Import batches only (a request writes one conversation): without the statement timeout,
        // as a batch of a thousand large documents may wait on other writers' row locks.
        const written = await withoutStatementTimeout(this.pool, async (client) => {
          if (setting) await client.query(setting);
          await client.query(LOCK_STATS_DAYS_SQL, days);
          const outcomes = await this.writeRecords(client, records);
          recordsWritten = true;
          if (deliveries) await insertDeliveries(client, deliveries);
          return outcomes;
        });
        return written.map((w) => w.outcome);
      } catch (error) {
        // A deadlock or serialization failure rolled the whole batch back: it is written again.
        if (attempt < BATCH_TRIES && isRetryable(error)) {
          await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20 * attempt));
          continue;
        }
        throw recordsWritten ? error : refusedRecords(error);
      }
    }
  }

  async putConversation(record: ConversationRecord, deliveries?: QueuedDeliveries): Promise<PutOutcome> {
    const [written] = await inTransaction(this.pool, async (client) => {
      const outcomes = await this.writeRecords(client, [record]);
      if (deliveries) await insertDeliveries(client, deliveries);
      return outcomes;
    });
    if (!written) throw new Error("the upsert returned no row");
    return written;
  }

  async updateConversation(
    conversationId: string,
    change: (json: string) => ConversationRecord,
    deliveries?: QueuedDeliveries,
  ): Promise<ConversationRecord | undefined> {
    return inTransaction(this.pool, async (client) => {
      const found = await client.query<{ doc: string }>(
        "SELECT doc FROM conversations WHERE conversation_id = $1 FOR UPDATE",
        [toPgText(conversationId)],
      );
      const row = found.rows[0];
      if (!row) return undefined;
      const record = change(row.doc);
      await this.writeRecords(client, [record]);
      if (deliveries) await insertDeliveries(client, deliveries);
      return record;
    });
  }

  async scanConversations(afterId: string | null, limit: number): Promise<ScannedConversation[]> {
    const result = await this.pool.query<AudioDbRow & { conversation_id: string; doc: string }>(
      `SELECT conversation_id, doc, ${audioColumns()} FROM conversations ` +
        "WHERE ($1::text IS NULL OR conversation_id > $1) ORDER BY conversation_id LIMIT $2",
      [afterId === null ? null : toPgText(afterId), limit],
    );
    return result.rows.map((r) => ({ conversationId: r.conversation_id, json: r.doc, audio: toAudio(r) }));
  }

  /** Writes records on a connection inside an open transaction. */
  private async writeRecords(
    client: pg.PoolClient,
    records: readonly ConversationRecord[],
  ): Promise<PutOutcome[]> {
    // A batch may name a conversation twice. As in SQLite, the first time creates or replaces, later
    // times replace, and the last one is what remains: only that one is written.
    const ids = records.map((r) => toPgText(r.index.conversationId));
    const last = new Map(records.map((record, i) => [ids[i] as string, record]));
    const batch = [...last.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);

    // Text columns go as binary arrays (no escaping of the documents); the few others as text.
    const params: unknown[] = COLUMNS.map((column) => {
      const values = batch.map((r) => toPgText(column.value(r)));
      return column.type === "text" ? textArrayParam(values as (string | null | undefined)[]) : values;
    });
    params.push(Math.floor(Date.now() / 1000));

    {
      const written = await client.query<
        AudioDbRow & { seq: number; conversation_id: string; inserted: boolean }
      >(UPSERT_SQL, params);
      const seqById = new Map<string, number>();
      const inserted = new Map<string, boolean>();
      const audioById = new Map<string, AudioInfo | null>();
      const replacedSeqs: number[] = [];
      for (const row of written.rows) {
        seqById.set(row.conversation_id, row.seq);
        inserted.set(row.conversation_id, row.inserted);
        audioById.set(row.conversation_id, toAudio(row));
        if (!row.inserted) replacedSeqs.push(row.seq);
      }
      if (replacedSeqs.length > 0) {
        await client.query("DELETE FROM facets WHERE seq = ANY($1::bigint[])", [replacedSeqs]);
      }
      const seqs: (number | undefined)[] = [];
      const kinds: string[] = [];
      const keys: string[] = [];
      const values: string[] = [];
      const nums: (number | null)[] = [];
      for (const [id, record] of last) {
        const seq = seqById.get(id);
        // Distinct facets can become one once U+0000 is mapped: each is written once, as SQLite's key does.
        const written = new Set<string>();
        for (const f of record.facets) {
          const key = toPgText(f.key);
          const value = toPgText(f.value);
          const identity = JSON.stringify([f.kind, key, value]);
          if (written.has(identity)) continue;
          written.add(identity);
          seqs.push(seq);
          kinds.push(f.kind);
          keys.push(key);
          values.push(value);
          nums.push(f.num);
        }
      }
      if (seqs.length > 0) {
        const facetParams = [seqs, textArrayParam(kinds), textArrayParam(keys), textArrayParam(values), nums];
        await client.query(INSERT_FACETS_SQL, facetParams);
      }

      const seen = new Set<string>();
      return ids.map((id): PutOutcome => {
        const first = !seen.has(id);
        seen.add(id);
        const outcome = first && inserted.get(id) === true ? "created" : "replaced";
        return { outcome, audio: audioById.get(id) ?? null };
      });
    }
  }

  async getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    // Named, so each connection parses and plans it once: the hottest read of all.
    const result = await this.pool.query<AudioDbRow & { doc: string }>({
      name: "get-conversation",
      text: GET_CONVERSATION_SQL,
      values: [toPgText(conversationId)],
    });
    const row = result.rows[0];
    return row ? { json: row.doc, audio: toAudio(row) } : undefined;
  }

  async getServedConversationBytes(conversationId: string): Promise<ServedConversationBytes | undefined> {
    const stored = await this.getConversation(conversationId);
    if (!stored) return undefined;
    const served = renderStoredDocument(stored.json, audioFlagsOf(stored.audio));
    return { bytes: Buffer.from(served, "utf8"), audio: stored.audio };
  }

  async listConversations(query: ListQuery): Promise<ListPage<ListRow>> {
    const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
    const plan = tokens.length === 0 ? "list" : await this.searchPlan(tokens, query);
    // Several words walked in list order are read by the bounded walk: the planner multiplies
    // their LIKEs' selectivities, finds the walk too long and scans the whole table in parallel.
    // Not with a filter the walk can only check row by row (a tag, a dynamic variable…): a rare
    // one would leave most pages empty, where the planner drives the query from its index.
    const walkable = !hasFiltersBesidesSearch(splitWalkFilters(query).checked);
    if (walkable && (plan === "bounded" || (plan === "scan" && tokens.length > 1))) {
      return this.listByBoundedWalk(query);
    }
    const dialect =
      plan === "list" ? postgresListDialect : plan === "scan" ? postgresScanDialect : postgresMatchesDialect;
    const { sql, params } = buildListSql(query, dialect);
    const result = await this.pool.query<ListDbRow>(sql, params.map(toPgText));
    return toListPage(result.rows, query.pageSize);
  }

  /**
   * How a list search is read. The words are first tried on the newest conversations (200 rows of
   * the start-time index): a first page, newest first, with no other filter, whose results are all
   * among them walks the start-time index at once (`scan`: it reads at most those rows). Several
   * words that are each common there (in 5 % of the sample) are read by a bounded walk
   * (`bounded`): the trigram index cannot narrow them (it builds the bitmap of every trigram of
   * every word, rows by the hundred thousand at a million, before checking a row), and when they
   * are rarely together, a walk until the page is full could read the whole table (several words
   * planned as `scan` take the bounded walk too, see `listConversations`). Otherwise a probe
   * through the trigram index stops at COMMON_SEARCH_MATCHES, and only a search found that often
   * and among 1 % of the newest walks the start-time index (`scan`): a word in 0.1 % of a million
   * conversations (a thousand matches) is fetched and sorted (`matches`), where walking would read
   * a thousand conversations for each result. The sample comes first because the probe is not
   * cheap for a common word: the trigram index builds the bitmap of every match before the LIMIT
   * applies (100 ms for a word in every conversation of a million).
   */
  private async searchPlan(tokens: string[], query: ListQuery): Promise<"scan" | "matches" | "bounded"> {
    const { params, bind } = createParams(postgresListDialect);
    const condition = postgresListDialect.searchCondition(tokens, bind);
    const each =
      tokens.length > 1
        ? tokens.map(
            (token, i) =>
              `, count(*) FILTER (WHERE ${postgresListDialect.searchCondition([token], bind)})::int AS w${i}`,
          )
        : [];
    const sampled = await this.pool.query<Record<string, number>>(
      `SELECT count(*) FILTER (WHERE ${condition})::int AS n${each.join("")} FROM (SELECT c.search_text FROM conversations c
        ORDER BY c.start_time DESC, c.conversation_id DESC LIMIT ${COMMON_SEARCH_SAMPLE}) c`,
      params.map(toPgText),
    );
    const row = sampled.rows[0] ?? {};
    const inSample = row.n ?? 0;
    const firstNewestPage =
      query.cursor === null && query.direction === "desc" && !hasFiltersBesidesSearch(query);
    if (firstNewestPage && inSample > query.pageSize) return "scan";
    const everyWordCommon =
      tokens.length > 1 && tokens.every((_, i) => (row[`w${i}`] ?? 0) >= COMMON_WORD_SAMPLE_MATCHES);
    if (everyWordCommon) return "bounded";
    if (inSample < COMMON_SEARCH_SAMPLE_MATCHES) return "matches";
    const result = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM conversations c WHERE ${condition} LIMIT ${COMMON_SEARCH_MATCHES}) s`,
      params.map(toPgText),
    );
    return (result.rows[0]?.n ?? 0) >= COMMON_SEARCH_MATCHES ? "scan" : "matches";
  }

  /**
   * A list page read by a bounded walk (`buildBoundedListSql`): when the walk stops at
   * BOUNDED_WALK_ROWS before the page is full, the page holds what it found (maybe nothing) and a
   * cursor at the last row read, with `has_more`, so following the cursors still finds every match.
   */
  private async listByBoundedWalk(query: ListQuery): Promise<ListPage<ListRow>> {
    const { sql, params } = buildBoundedListSql(query, BOUNDED_WALK_ROWS, postgresScanDialect);
    const result = await this.pool.query<BoundedListDbRow>(sql, params.map(toPgText));
    const hits = result.rows.filter((r) => r.hit && r.n <= BOUNDED_WALK_ROWS);
    if (hits.length > query.pageSize) return toListPage(hits, query.pageSize);
    const stop = result.rows.find((r) => r.n === BOUNDED_WALK_ROWS);
    const goesOn = result.rows.some((r) => r.n > BOUNDED_WALK_ROWS);
    const page = toListPage(hits, query.pageSize);
    if (!stop || !goesOn) return page;
    return {
      ...page,
      nextCursor: { startTime: stop.start_time, conversationId: stop.conversation_id },
      hasMore: true,
    };
  }

  async deleteConversation(conversationId: string): Promise<DeletedConversation | undefined> {
    return inTransaction(this.pool, async (client) => {
      // The row lock makes a concurrent file upload wait (its foreign key check) and then fail, so
      // the file rows read next are all there will ever be: their blob keys go back to the caller.
      const locked = await client.query("SELECT 1 FROM conversations WHERE conversation_id = $1 FOR UPDATE", [
        toPgText(conversationId),
      ]);
      if (locked.rowCount === 0) return undefined;
      const files = await client.query<{ blob_key: string }>(
        "DELETE FROM conversation_files WHERE conversation_id = $1 RETURNING blob_key",
        [toPgText(conversationId)],
      );
      // The row (and its search text) and its facets go together, with the rows that cascade.
      const result = await client.query<AudioDbRow>(
        `WITH gone AS (
           DELETE FROM conversations WHERE conversation_id = $1 RETURNING seq, ${audioColumns()}
         ), gone_facets AS (
           DELETE FROM facets WHERE seq IN (SELECT seq FROM gone)
         )
         SELECT ${audioColumns()} FROM gone`,
        [toPgText(conversationId)],
      );
      const row = result.rows[0];
      if (!row) return undefined;
      const audio = toAudio(row);
      return files.rows.length > 0 ? { audio, fileBlobKeys: files.rows.map((f) => f.blob_key) } : { audio };
    });
  }

  async setAudio(
    conversationId: string,
    audio: AudioInfo,
    deliveries?: QueuedDeliveries,
  ): Promise<{ replaced: AudioInfo | null } | undefined> {
    const params = [toPgText(conversationId), Math.floor(Date.now() / 1000), ...audioValues(audio)];
    // The locked read gives the audio this update replaces, even when writers race: the second
    // waits for the first to commit and then sees its audio.
    if (!deliveries || deliveries.length === 0) {
      const row = (await this.pool.query<AudioDbRow>(SET_AUDIO_SQL, params)).rows[0];
      return row ? { replaced: toAudio(row) } : undefined;
    }
    return inTransaction(this.pool, async (client) => {
      const row = (await client.query<AudioDbRow>(SET_AUDIO_SQL, params)).rows[0];
      if (!row) return undefined;
      await insertDeliveries(client, deliveries);
      return { replaced: toAudio(row) };
    });
  }

  /** Every row counted: `export`'s progress total, not a request's; without the statement timeout. */
  async countConversations(): Promise<number> {
    const result = await withoutStatementTimeout(this.pool, (client) =>
      client.query<{ n: number }>("SELECT count(*) AS n FROM conversations"),
    );
    return result.rows[0]?.n ?? 0;
  }
}
