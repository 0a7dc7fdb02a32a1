import type pg from "pg";
import { type ListQuery, tokenizeSearch } from "../../domain/list-query.js";
import {
  buildEmbeddingScanSql,
  buildEmbeddingStateSql,
  buildLabelLookupSql,
  buildLabelledVectorScanSql,
  buildLabelRangeLookupSql,
  buildPendingEmbeddingsSql,
} from "../embedding-sql.js";
import { buildCandidateSql, buildCandidateWalkSql, type CandidateWalkDbRow } from "../list-sql.js";
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
  CandidateWalkPath,
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
import { createParams } from "../sql-params.js";
import { toPgText } from "./pg-text.js";
import { inTransaction, withoutStatementTimeout } from "./pg-transaction.js";
import { postgresListDialect, postgresMatchesDialect, postgresScanDialect } from "./postgres-list-dialect.js";

/** Labels bound as one array parameter, so the statement is the same for any number of them. */
const PG_LABEL_SET = (placeholder: string) => `= ANY(${placeholder}::bigint[])`;
/** Label ranges bound as one JSON array of `[from, to]` pairs. */
const PG_LABEL_RANGES = (placeholder: string) =>
  `(SELECT (x ->> 0)::bigint AS lo, (x ->> 1)::bigint AS hi FROM jsonb_array_elements(${placeholder}::jsonb) x) r`;

/** The newest conversations a candidate walk looks at to choose between the trigram index and time order. */
const WALK_PROBE_ROWS = 200;
/**
 * The share of them holding every word from which a candidate walk goes by time: its budget of
 * 1,500 conversations then holds about 45 candidates or more, beyond what a ranking window of
 * 400,000 characters reads. Below it the planner chooses (the trigram index, or time order).
 */
const WALK_BY_TIME_MIN_SHARE = 0.03;
/** The share of them from which a word, or the words' trigrams, are too common for the trigram index to narrow the walk. */
const COMMON_SHARE = 0.1;

/** How long a walk's choice between the trigram index and time order is reused for the same words. */
const WALK_CHOICE_MS = 10_000;

/** Three-character pieces of the search tokens (every third position, at most 12): what the trigram index looks up. */
function probeTrigrams(tokens: string[]): string[] {
  const grams = new Set<string>();
  for (const token of tokens) {
    const chars = Array.from(token);
    for (let i = 0; i + 3 <= chars.length && grams.size < 12; i += 3)
      grams.add(chars.slice(i, i + 3).join(""));
  }
  return [...grams];
}

/** Reads a `real[]` (numbers, or numeric strings) as a float32 vector. */
function fromPgArray(values: number[]): Float32Array {
  return Float32Array.from(values.map(Number));
}

/** Message search in PostgreSQL: candidates through the list query's conditions, embeddings as `real[]`. */
export class PostgresMessageSearchStore implements MessageSearchStore {
  /** Recent choices of `walkByTime`, by search words: the pages of one search probe once. */
  private readonly walkChoices = new Map<string, { byTime: boolean; at: number }>();

  constructor(private readonly pool: pg.Pool) {}

  async findCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
  ): Promise<CandidateConversation[]> {
    // The planner's path is taken for rare words: their matches are fetched and sorted.
    const searched = query.search !== undefined && tokenizeSearch(query.search).length > 0;
    const dialect = searched ? postgresMatchesDialect : postgresListDialect;
    const { sql, params } = buildCandidateSql(query, from, limit, dialect);
    const result = await this.pool.query<CandidateDbRow>(sql, params.map(toPgText));
    return result.rows.map(toCandidate);
  }

  /**
   * One statement. When the words are common among the newest conversations (together, each, or
   * by their trigrams), the trigram index would read and sort every match (seconds for a query of
   * many common words): the conversations are walked newest first instead, the words checked on
   * each, and the walk stops at its budget. Otherwise the list's statement runs (the planner uses
   * the trigram index or time order) and never stops at the budget; what it read counts as examined.
   * `path` (an earlier step's) skips the choice: the steps and pages of one search read alike.
   */
  async walkCandidates(
    query: ListQuery,
    from: CandidatePosition | null,
    limit: number,
    budget: number,
    path?: CandidateWalkPath,
  ): Promise<CandidateWalk> {
    const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
    if (tokens.length === 0 || !Number.isFinite(budget)) {
      const candidates = await this.findCandidates(query, from, limit);
      return { candidates, examined: candidates.length, resume: null };
    }
    const chosen = path ?? (await this.chooseWalkPath(query)) ?? "planner";
    if (chosen === "planner") {
      const candidates = await this.findCandidates(query, from, limit);
      return { candidates, examined: candidates.length, resume: null, path: chosen };
    }
    const most = Math.max(1, Math.floor(budget));
    const { sql, params } = buildCandidateWalkSql(query, from, limit, most, postgresScanDialect);
    const { rows } = await this.pool.query<CandidateWalkDbRow>(sql, params.map(toPgText));
    const candidates = rows
      .flatMap((r) => (r.doc === null ? [] : [toCandidate({ ...r, doc: r.doc })]))
      .slice(0, limit);
    const lastCandidate = candidates[candidates.length - 1];
    if (candidates.length === limit && lastCandidate) {
      const at = rows.find((r) => r.conversation_id === lastCandidate.conversationId);
      return { candidates, examined: Number(at?.n ?? most), resume: null, path: chosen };
    }
    // The row one past the budget says the walk stopped there rather than ended.
    const stopped = rows.some((r) => Number(r.n) > most);
    const atBudget = rows.find((r) => Number(r.n) === most);
    const examined = rows.reduce((n, r) => Math.max(n, Math.min(Number(r.n), most)), 0);
    return {
      candidates,
      examined,
      resume:
        stopped && atBudget
          ? { startTime: atBudget.start_time, conversationId: atBudget.conversation_id, inclusive: false }
          : null,
      path: chosen,
    };
  }

  async chooseWalkPath(query: ListQuery): Promise<CandidateWalkPath | undefined> {
    const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
    if (tokens.length === 0) return undefined;
    return (await this.walkByTime(tokens)) ? "time" : "planner";
  }

  /**
   * Whether a candidate walk goes by time rather than through the trigram index: the words are
   * together in at least WALK_BY_TIME_MIN_SHARE of the newest WALK_PROBE_ROWS conversations, or
   * each word is in at least COMMON_SHARE of them, or the words' trigrams are all in at least
   * COMMON_SHARE of them (the index would read long lists to narrow little).
   */
  private async walkByTime(tokens: string[]): Promise<boolean> {
    const key = tokens.join("\u0000");
    const known = this.walkChoices.get(key);
    if (known && Date.now() - known.at < WALK_CHOICE_MS) return known.byTime;
    const byTime = await this.probeWalkByTime(tokens);
    if (this.walkChoices.size >= 200) this.walkChoices.clear();
    this.walkChoices.set(key, { byTime, at: Date.now() });
    return byTime;
  }

  /** The probe behind `walkByTime`, on the newest conversations (protected: tests choose its answer). */
  protected async probeWalkByTime(tokens: string[]): Promise<boolean> {
    const { params, bind } = createParams(postgresScanDialect);
    const all = postgresScanDialect.searchCondition(tokens, bind);
    const each = tokens.map(
      (token) => `count(*) FILTER (WHERE ${postgresScanDialect.searchCondition([token], bind)})`,
    );
    const grams = probeTrigrams(tokens).map((gram) => `strpos(c.search_text, ${bind(gram)}) > 0`);
    const gramShare = grams.length > 0 ? `count(*) FILTER (WHERE ${grams.join(" AND ")})` : "0";
    const result = await this.pool.query<{ n: number; hits: number; rarest: number; grams: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE ${all})::int AS hits, least(${each.join(", ")})::int AS rarest, ` +
        `(${gramShare})::int AS grams FROM (SELECT c.search_text FROM conversations c ` +
        `ORDER BY c.start_time DESC, c.conversation_id DESC LIMIT ${WALK_PROBE_ROWS}) c`,
      params.map(toPgText),
    );
    const probe = result.rows[0];
    if (!probe || probe.n === 0) return false;
    return (
      probe.hits >= probe.n * WALK_BY_TIME_MIN_SHARE ||
      probe.rarest >= probe.n * COMMON_SHARE ||
      probe.grams >= probe.n * COMMON_SHARE
    );
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
    const { sql, params } = buildEmbeddingScanSql(
      model,
      filter,
      after,
      limit,
      postgresListDialect,
      "ordered-subquery",
    );
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

  async scanLabelledVectors(model: string, afterLabel: number, limit: number): Promise<ScannedLabel[]> {
    const { sql, params } = buildLabelledVectorScanSql(model, afterLabel, limit, postgresListDialect);
    const result = await this.pool.query<LabelledVectorDbRow<number[] | null>>(sql, params.map(toPgText));
    return result.rows.map((r) => toScannedLabel(r, fromPgArray));
  }

  async findLabelledVectors(model: string, labels: readonly number[]): Promise<LabelledVector[]> {
    if (labels.length === 0) return [];
    const { sql, params } = buildLabelLookupSql(
      "vectors",
      model,
      PG_LABEL_SET,
      labels,
      {},
      postgresListDialect,
    );
    const result = await this.pool.query<LabelledVectorDbRow<number[]>>(sql, params.map(toPgText));
    return result.rows.map((r) => toLabelledVector(r, fromPgArray));
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
      PG_LABEL_SET,
      labels,
      filter,
      postgresListDialect,
    );
    const result = await this.pool.query<LabelledChunkDbRow<number[]>>(sql, params.map(toPgText));
    return result.rows.map((r) => toLabelledChunk(r, fromPgArray));
  }

  /** Every embedding of the model counted (the semantic index's rebuild check, in the background): without the statement timeout. */
  async countEmbeddings(model: string): Promise<number> {
    const result = await withoutStatementTimeout(this.pool, (client) =>
      client.query<{ n: string }>(
        `SELECT count(*) AS n FROM message_embeddings m
        JOIN embedding_state s ON s.conversation_id = m.conversation_id WHERE s.model = $1`,
        [model],
      ),
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * The semantic index's look-up of its holes, in the background (a search's catch-up skips the
   * holes): up to thousands of label ranges at once, without the statement timeout.
   */
  async findLabelledVectorsInRanges(model: string, ranges: readonly LabelRange[]): Promise<LabelledVector[]> {
    if (ranges.length === 0) return [];
    const { sql, params } = buildLabelRangeLookupSql(
      model,
      PG_LABEL_RANGES,
      JSON.stringify(ranges),
      postgresListDialect,
    );
    const result = await withoutStatementTimeout(this.pool, (client) =>
      client.query<LabelledVectorDbRow<number[]>>(sql, params.map(toPgText)),
    );
    return result.rows.map((r) => toLabelledVector(r, fromPgArray));
  }

  async embeddingWriteHorizon(): Promise<EmbeddingWriteHorizon | null> {
    // A label is taken from the sequence at insert time and becomes visible at commit: a later
    // label can be seen first. The snapshot says which transactions may still commit rows.
    const result = await this.pool.query<{ xmin: string; xmax: string }>(
      `SELECT txid_snapshot_xmin(txid_current_snapshot())::text AS xmin,
        txid_snapshot_xmax(txid_current_snapshot())::text AS xmax`,
    );
    const row = result.rows[0];
    return { oldestRunning: Number(row?.xmin ?? 0), next: Number(row?.xmax ?? 0) };
  }

  async highestEmbeddingLabel(): Promise<number> {
    // The identity sequence's last value: the highest label handed out, even once its row is deleted.
    const result = await this.pool.query<{ last: string | null }>(
      "SELECT pg_sequence_last_value(pg_get_serial_sequence('message_embeddings', 'label')::regclass) AS last",
    );
    return Number(result.rows[0]?.last ?? 0);
  }
}
