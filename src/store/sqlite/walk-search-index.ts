import type BetterSqlite3 from "better-sqlite3";
import type { ListPage, ListQuery } from "../../domain/list-query.js";
import { type ListDbRow, toListPage } from "../db-rows.js";
import { buildListConditions, cursorCondition, LIST_COLUMNS, unfilteredListQuery } from "../list-sql.js";
import { type CandidateDbRow, toCandidate } from "../message-search-db-rows.js";
import type { CandidatePosition, CandidateWalk } from "../message-search-store.js";
import { type Bind, createParams } from "../sql-params.js";
import type { ListRow } from "../store.js";
import { secondOfSortKey, sortKeyCeiling, sortKeyFloor, sortKeySecond } from "./sort-key.js";
import { searchConditions, sqliteListDialect } from "./sqlite-list-dialect.js";

/**
 * Reads a list page with search (`prepare` caches statements by SQL text). The trigram index is
 * walked in sort-key order (start time, to the second) and stopped by LIMIT, so a common word
 * costs no more than a rare one. Rows come back in key order; the page must be in exact (start
 * time, id) order, which can differ only among rows of the same second, so the walk goes on
 * until the second of the (page size + 1)-th row is complete, and the rows are then sorted here.
 */
export function walkSearchIndex(
  prepare: (sql: string) => BetterSqlite3.Statement,
  query: ListQuery,
  tokens: string[],
): ListPage<ListRow> {
  const desc = query.direction === "desc";
  const { params, bind } = createParams(sqliteListDialect);
  const where = [
    searchConditions(tokens, bind),
    ...buildListConditions(query, sqliteListDialect, bind, false),
  ];
  const cursor = cursorCondition(query, bind);
  if (cursor && query.cursor) {
    where.push(cursor);
    // The cursor's position as a key range: the index seeks to it when walking downwards.
    const second = query.cursor.startTime;
    where.push(
      desc ? `t.rowid < ${bind(sortKeyCeiling(second))}` : `t.rowid >= ${bind(sortKeyFloor(second))}`,
    );
  }
  const sql =
    `SELECT ${LIST_COLUMNS}, t.rowid AS k FROM conversation_text t CROSS JOIN conversations c ON c.sort_key = t.rowid ` +
    `WHERE ${where.join(" AND ")} ORDER BY t.rowid ${desc ? "DESC" : "ASC"} LIMIT ?`;
  const statement = prepare(sql);
  const wanted = query.pageSize + 1;
  let limit = wanted + 64;
  let rows: (ListDbRow & { k: number })[];
  for (;;) {
    rows = statement.all(...params, limit) as (ListDbRow & { k: number })[];
    const boundary = rows[wanted - 1];
    const last = rows[rows.length - 1];
    if (rows.length < limit || !boundary || !last) break;
    const second = secondOfSortKey(boundary.k);
    if (secondOfSortKey(last.k) !== second) {
      rows = rows.filter(
        (r) => secondOfSortKey(r.k) === second || (desc ? r.k > boundary.k : r.k < boundary.k),
      );
      break;
    }
    limit *= 4;
  }
  const sign = desc ? -1 : 1;
  rows.sort((a, b) =>
    a.start_time !== b.start_time
      ? sign * (a.start_time - b.start_time)
      : sign * (a.conversation_id < b.conversation_id ? -1 : a.conversation_id > b.conversation_id ? 1 : 0),
  );
  return toListPage(rows.slice(0, wanted), query.pageSize);
}

/** Distinct trigrams the index pre-filter of a candidate walk uses at most; LIKE rechecks every row. */
const MAX_MATCH_TRIGRAMS = 12;
/** Rows of the search index one statement of a candidate walk reads at most. */
const MAX_STEP_ROWS = 500;
/** The share of rows that must hold the words for a walk to go on without the trigram pre-filter. */
const PLAIN_WALK_MIN_HITS = 0.1;
/** The largest share of rows holding the query's trigrams for which the pre-filter is worth its cost. */
const PREFILTER_MAX_SHARE = 0.5;

/** A trigram the index can be asked for: no NUL and no half of a surrogate pair. */
function isIndexable(chars: string[]): boolean {
  return chars.every((ch) => ch !== "\u0000" && !(ch.length === 1 && /[\uD800-\uDFFF]/.test(ch)));
}

/**
 * The trigrams of the search tokens an index pre-filter requires, at most MAX_MATCH_TRIGRAMS,
 * taken in turn from each token (non-overlapping ones first), so a 500-character query stays
 * cheap; none when no token has three characters. Every row holding the tokens holds them.
 */
function chooseTrigrams(tokens: string[]): string[] {
  const perToken = tokens.map((token) => {
    const chars = Array.from(token);
    const starts = Array.from({ length: Math.max(chars.length - 2, 0) }, (_, i) => i);
    const ordered = [...starts.filter((i) => i % 3 === 0), ...starts.filter((i) => i % 3 !== 0)];
    return ordered.map((i) => chars.slice(i, i + 3)).filter(isIndexable);
  });
  const chosen = new Set<string>();
  for (let round = 0; chosen.size < MAX_MATCH_TRIGRAMS; round++) {
    let any = false;
    for (const grams of perToken) {
      const gram = grams[round];
      if (!gram || chosen.size >= MAX_MATCH_TRIGRAMS) continue;
      any = true;
      chosen.add(gram.join(""));
    }
    if (!any) break;
  }
  return [...chosen];
}

/**
 * An FTS5 MATCH expression requiring the chosen trigrams of the search tokens, or undefined when
 * no token has three characters. It only narrows the rows the words are checked on.
 */
export function trigramMatch(tokens: string[]): string | undefined {
  const trigrams = chooseTrigrams(tokens);
  if (trigrams.length === 0) return undefined;
  return trigrams.map((g) => `"${g.replace(/"/g, '""')}"`).join(" AND ");
}

/** The smallest key a walk from a position must not reach (exclusive upper bound). */
function upperKey(from: CandidatePosition | null): number {
  if (!from) return Number.MAX_SAFE_INTEGER;
  // A resume position ("before this whole second") need not read that second again.
  const wholeSecond =
    !from.inclusive &&
    from.conversationId === "" &&
    from.startTime >= 1 &&
    sortKeySecond(from.startTime) === from.startTime;
  return wholeSecond ? sortKeyFloor(from.startTime) : sortKeyCeiling(from.startTime);
}

type KeyedCandidateRow = CandidateDbRow & { k: number };

function compareNewestFirst(a: KeyedCandidateRow, b: KeyedCandidateRow): number {
  if (a.start_time !== b.start_time) return b.start_time - a.start_time;
  return a.conversation_id < b.conversation_id ? 1 : a.conversation_id > b.conversation_id ? -1 : 0;
}

/**
 * The rows of a step up to the one after the second of its `needed`-th hit (keys descending): a
 * document is read for every hit, so a step whose rows hold more hits than the walk still needs
 * stops there. The row after that second (of an older one) is kept so the second is known complete;
 * the walk goes on below it if the hits kept turn out too few. All rows when there is no such row.
 */
function throughNeededHits<R extends { k: number; hit: number | null }>(rows: R[], needed: number): R[] {
  let hitsSeen = 0;
  let second: number | undefined;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as R;
    if (second === undefined) {
      if (row.hit === 1 && ++hitsSeen === needed) second = secondOfSortKey(row.k);
    } else if (secondOfSortKey(row.k) !== second) {
      return rows.slice(0, i + 1);
    }
  }
  return rows;
}

/** Conversations an indexed filter may select for a walk to go through them instead of the search index. */
const FILTER_WALK_MAX_ROWS = 2000;

/** The filter conditions of a walk (search left out) and its start position, as bound by `bind`. */
function filterConditions(query: ListQuery, from: CandidatePosition | null, bind: Bind): string[] {
  const where = buildListConditions(query, sqliteListDialect, bind, false);
  if (from) {
    where.push(
      `(c.start_time, c.conversation_id) ${from.inclusive ? "<=" : "<"} (${bind(from.startTime)}, ${bind(from.conversationId)})`,
    );
  }
  return where;
}

/**
 * With a filter an index answers (agent, user, branch or version), the conversations it selects
 * may be few. Then they are walked newest first through that index and the words checked on each
 * one's text: at most FILTER_WALK_MAX_ROWS rows (and no more than the budget), where walking the
 * search index would spend the budget on conversations the filter rejects and stop before the
 * ones it selects. Undefined when the filter selects more (the search index is walked instead).
 */
function walkFiltered(
  prepare: (sql: string) => BetterSqlite3.Statement,
  query: ListQuery,
  tokens: string[],
  from: CandidatePosition | null,
  limit: number,
  budget: number,
): CandidateWalk | undefined {
  if (
    query.agentId === undefined &&
    query.userId === undefined &&
    query.branchId === undefined &&
    query.versionId === undefined
  ) {
    return undefined;
  }
  // The rows walked are those the indexed filters select (the other filters are checked on them).
  const indexed: ListQuery = {
    ...unfilteredListQuery(query),
    ...(query.agentId === undefined ? {} : { agentId: query.agentId }),
    ...(query.userId === undefined ? {} : { userId: query.userId }),
    ...(query.branchId === undefined ? {} : { branchId: query.branchId }),
    ...(query.versionId === undefined ? {} : { versionId: query.versionId }),
  };
  const most = Math.min(FILTER_WALK_MAX_ROWS, budget);
  const counting = createParams(sqliteListDialect);
  const count = prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM conversations c WHERE ${filterConditions(indexed, from, counting.bind).join(" AND ")} LIMIT ?)`,
  );
  const selected = (count.get(...counting.params, most + 1) as { n: number }).n;
  if (selected > most) return undefined;
  const read = createParams(sqliteListDialect);
  const where = filterConditions(query, from, read.bind);
  for (const token of tokens) where.push(`instr(t.body, ${read.bind(token)}) > 0`);
  const rows = prepare(
    "SELECT c.conversation_id, c.start_time, c.agent_id, c.doc FROM conversations c " +
      `CROSS JOIN conversation_text t ON t.rowid = c.sort_key WHERE ${where.join(" AND ")} ` +
      "ORDER BY c.start_time DESC, c.conversation_id DESC LIMIT ?",
  ).all(...read.params, limit) as CandidateDbRow[];
  const last = rows[rows.length - 1];
  let examined = selected;
  if (rows.length === limit && last) {
    // A full batch read the selected rows down to its last candidate only.
    const upTo = createParams(sqliteListDialect);
    const reached = filterConditions(indexed, from, upTo.bind);
    reached.push(
      `(c.start_time, c.conversation_id) >= (${upTo.bind(last.start_time)}, ${upTo.bind(last.conversation_id)})`,
    );
    examined = (
      prepare(`SELECT count(*) AS n FROM conversations c WHERE ${reached.join(" AND ")}`).get(
        ...upTo.params,
      ) as { n: number }
    ).n;
  }
  return { candidates: rows.map(toCandidate), examined, resume: null };
}

/**
 * The candidates of a message search, walking the search index newest first in steps. Each step
 * reads at most MAX_STEP_ROWS index rows (after the first step, only rows holding the query's
 * trigrams when the words turned out to be rare), checks the words on their text in the same statement, then
 * reads the matching conversations that pass the filters by key. The walk stops when `limit`
 * candidates are complete, at the end, or after `budget` examined rows (once past a whole
 * second), and yields to the event loop between steps, so no query holds the server for long.
 * Keys order by the second only; rows of the last second reached are left for the next call.
 */
export async function walkCandidateIndex(
  prepare: (sql: string) => BetterSqlite3.Statement,
  query: ListQuery,
  tokens: string[],
  from: CandidatePosition | null,
  limit: number,
  budget: number,
): Promise<CandidateWalk> {
  const filtered = walkFiltered(prepare, query, tokens, from, limit, budget);
  if (filtered) return filtered;
  const scan = createParams(sqliteListDialect);
  // CASE stops at the first word missing (AND evaluates every LIKE); the longest, rarest-looking words go first.
  const byLength = [...tokens].sort((a, b) => b.length - a.length);
  // instr(), not LIKE: the text and the words are folded alike, and instr() compares bytes.
  const hit = `CASE ${byLength.map((t) => `WHEN coalesce(instr(t.body, ${scan.bind(t)}), 0) = 0 THEN 0`).join(" ")} ELSE 1 END`;
  const match = trigramMatch(tokens);
  // Whether a row holds every trigram the pre-filter would require: how much the pre-filter would narrow.
  const trigrams = chooseTrigrams(tokens);
  const preScan = createParams(sqliteListDialect);
  const pre = `CASE ${trigrams.map((g) => `WHEN instr(t.body, ${preScan.bind(g)}) = 0 THEN 0`).join(" ")} ELSE 1 END`;
  // The rows are walked through the conversations' sort_key index and their text looked up by
  // rowid: an FTS5 table's own scan below a rowid walks down from its newest row to the bound
  // (measured at 100,000 conversations: 87 ms for a step starting 100,000 rows down, 0.07 ms here).
  const plainStep = prepare(
    `SELECT c.sort_key AS k, (${hit}) AS hit, ${trigrams.length > 0 ? `(${pre})` : "1"} AS pre ` +
      "FROM conversations c CROSS JOIN conversation_text t ON t.rowid = c.sort_key " +
      "WHERE c.sort_key < ? ORDER BY c.sort_key DESC LIMIT ?",
  );
  const matchStep =
    match === undefined
      ? undefined
      : prepare(
          `SELECT t.rowid AS k, (${hit}) AS hit FROM conversation_text t WHERE conversation_text MATCH ? ` +
            "AND t.rowid < ? ORDER BY t.rowid DESC LIMIT ?",
        );
  // The walk starts reading the newest rows as they come: when the words are common, that finds
  // the candidates at once, while the trigram pre-filter would first merge the index's longest
  // lists. It switches to the pre-filter when the words are in fewer than PLAIN_WALK_MIN_HITS of
  // the rows read so far and the trigrams in fewer than PREFILTER_MAX_SHARE (so it narrows).
  let usePrefilter = false;
  let hits = 0;
  let preHits = 0;
  /** Rows the plain steps kept (the shares above are of these). */
  let plainRows = 0;
  const fetch = createParams(sqliteListDialect);
  const where = [
    `c.sort_key IN (SELECT value FROM json_each(${fetch.bind("[]")}))`,
    ...buildListConditions(query, sqliteListDialect, fetch.bind, false),
  ];
  if (from) {
    where.push(
      `(c.start_time, c.conversation_id) ${from.inclusive ? "<=" : "<"} (${fetch.bind(from.startTime)}, ${fetch.bind(from.conversationId)})`,
    );
  }
  const read = prepare(
    `SELECT c.conversation_id, c.start_time, c.agent_id, c.doc, c.sort_key AS k FROM conversations c WHERE ${where.join(" AND ")}`,
  );

  const found: KeyedCandidateRow[] = [];
  let hi = upperKey(from);
  // A few rows over the limit: only ties on the last second need more.
  let size = limit + 16;
  let examined = 0;
  let firstSecond: number | undefined;
  let frontierSecond = Number.NEGATIVE_INFINITY;
  for (;;) {
    let n = Math.min(size, MAX_STEP_ROWS);
    if (budget - examined > 0) n = Math.min(n, budget - examined);
    const stepRows = (
      usePrefilter && matchStep
        ? matchStep.all(...scan.params, match, hi, n)
        : plainStep.all(...scan.params, ...preScan.params, hi, n)
    ) as { k: number; hit: number | null; pre?: number }[];
    // Every row the statement read counts against the budget, those cut off below included.
    examined += stepRows.length;
    const rows = throughNeededHits(stepRows, Math.max(1, limit - found.length));
    const cut = rows.length < stepRows.length;
    const keys = rows.filter((r) => r.hit === 1).map((r) => r.k);
    const switched = !usePrefilter;
    const foundBefore = found.length;
    if (!usePrefilter && matchStep) {
      hits += keys.length;
      preHits += rows.filter((r) => r.pre === 1).length;
      plainRows += rows.length;
      usePrefilter = hits < plainRows * PLAIN_WALK_MIN_HITS && preHits < plainRows * PREFILTER_MAX_SHARE;
    }
    if (keys.length > 0) {
      found.push(...(read.all(JSON.stringify(keys), ...fetch.params.slice(1)) as KeyedCandidateRow[]));
    }
    const last = rows[rows.length - 1];
    if ((!cut && rows.length < n) || !last) {
      frontierSecond = Number.NEGATIVE_INFINITY;
      break;
    }
    hi = last.k;
    frontierSecond = secondOfSortKey(last.k);
    firstSecond ??= secondOfSortKey((rows[0] as { k: number }).k);
    const complete = found.filter((r) => secondOfSortKey(r.k) > frontierSecond).length;
    if (complete >= limit) break;
    if (examined >= budget && frontierSecond < firstSecond) break;
    // A document is read for every candidate row, so the next step reads about as many rows as the
    // candidates still needed take at the rate this step found them (at most four times as many as
    // this step); the first step through the pre-filter expects most of its rows to be candidates
    // (a quarter more than needed: a lower share found reads on in the next step).
    const needed = limit - complete;
    const rate = (found.length - foundBefore) / rows.length;
    if (usePrefilter && switched) size = Math.ceil(needed * 1.25) + 16;
    else size = rate > 0 ? Math.min(size * 4, Math.ceil((needed / rate) * 1.25) + 16) : size * 4;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const complete = found.filter((r) => secondOfSortKey(r.k) > frontierSecond).sort(compareNewestFirst);
  const stoppedEarly = frontierSecond !== Number.NEGATIVE_INFINITY && complete.length < limit;
  return {
    candidates: complete.slice(0, limit).map(toCandidate),
    examined,
    resume: stoppedEarly ? { startTime: frontierSecond + 1, conversationId: "", inclusive: false } : null,
  };
}
