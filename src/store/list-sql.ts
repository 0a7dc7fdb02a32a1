import type { FacetKind } from "../domain/conversation.js";
import { type KeyedCondition, type ListQuery, tokenizeSearch } from "../domain/list-query.js";
import type { ListDbRow } from "./db-rows.js";
import type { CandidatePosition } from "./message-search-store.js";
import { type Bind, createParams, type SqlPlaceholders, type SqlQuery } from "./sql-params.js";

/** The parts of SQL that differ between the database backends, as the list query needs them. */
export interface ListSqlDialect extends SqlPlaceholders {
  /**
   * A condition that the conversation aliased `c` contains every search token. `bind` adds a
   * parameter and returns its placeholder.
   */
  searchCondition(tokens: string[], bind: Bind): string;
  /**
   * A condition that an indexed text column equals one of the bound values (placeholders given).
   * A backend whose index holds a hash of the value writes the hash comparison its index serves
   * and then the exact one; without it, a plain `=` or `IN`.
   */
  equalsAny?(column: string, placeholders: readonly string[]): string;
  /**
   * Set when the matches of a rare search are few: the ORDER BY is written so that no index
   * serves it, so the planner fetches the matches through the search index and sorts them rather
   * than walking the start-time index through every conversation until a page is full.
   */
  sortsMatches?: boolean;
}

/** `column` equal to one of the placeholders, through the dialect's indexed form when it has one. */
function equalsAny(dialect: ListSqlDialect, column: string, placeholders: readonly string[]): string {
  if (dialect.equalsAny) return dialect.equalsAny(column, placeholders);
  return placeholders.length === 1
    ? `${column} = ${placeholders[0]}`
    : `${column} IN (${placeholders.join(", ")})`;
}

/** Escapes `%`, `_` and `\` for a LIKE pattern that uses `ESCAPE '\'`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** The columns a list page reads. */
export const LIST_COLUMNS =
  "c.start_time, c.conversation_id, c.list_item, c.transcript_summary, c.eval_results, c.data_results";

/** The keyset condition for a cursor: rows after it in the list's order. */
export function cursorCondition(query: ListQuery, bind: Bind): string | undefined {
  if (!query.cursor) return undefined;
  const t = bind(query.cursor.startTime);
  const id = bind(query.cursor.conversationId);
  return `(c.start_time, c.conversation_id) ${query.direction === "desc" ? "<" : ">"} (${t}, ${id})`;
}

/** The ORDER BY of the list. */
export function listOrder(query: ListQuery, dialect?: ListSqlDialect): string {
  const order = query.direction === "desc" ? "DESC" : "ASC";
  const startTime = dialect?.sortsMatches ? "(c.start_time + 0)" : "c.start_time";
  return `ORDER BY ${startTime} ${order}, c.conversation_id ${order}`;
}

/**
 * The filter conditions of a list query on `conversations c` (without the cursor), in the order
 * their parameters are bound. Search is left to the caller when `withSearch` is false.
 */
export function buildListConditions(
  query: ListQuery,
  dialect: ListSqlDialect,
  bind: Bind,
  withSearch = true,
): string[] {
  const where: string[] = [];
  const eq = (column: string, value: unknown) => {
    if (value !== undefined) where.push(`c.${column} = ${bind(value)}`);
  };
  // Columns with an index for their filter: long values are indexed by hash on PostgreSQL.
  const indexedEq = (column: string, value: string | undefined) => {
    if (value !== undefined) where.push(equalsAny(dialect, `c.${column}`, [bind(value)]));
  };
  const cmp = (column: string, op: string, value: number | undefined) => {
    if (value !== undefined) where.push(`c.${column} ${op} ${bind(value)}`);
  };
  const inList = (column: string, values: readonly unknown[] | undefined, negate = false) => {
    if (!values || values.length === 0) return;
    where.push(`c.${column} ${negate ? "NOT IN" : "IN"} (${values.map(bind).join(", ")})`);
  };

  indexedEq("agent_id", query.agentId);
  indexedEq("user_id", query.userId);
  indexedEq("branch_id", query.branchId);
  indexedEq("version_id", query.versionId);
  indexedEq("parent_conversation_id", query.parentConversationId);
  eq("initiation_source", query.initiationSource);
  eq("conversation_product", query.conversationProduct);
  if (query.textOnly !== undefined) where.push(`c.text_only = ${bind(query.textOnly ? 1 : 0)}`);
  if (query.hasFeedbackComment !== undefined) {
    where.push(`c.has_feedback_comment = ${bind(query.hasFeedbackComment ? 1 : 0)}`);
  }
  cmp("start_time", "<", query.startBefore);
  cmp("start_time", ">", query.startAfter);
  cmp("duration", ">=", query.durationMin);
  cmp("duration", "<=", query.durationMax);
  cmp("rating", ">=", query.ratingMin);
  cmp("rating", "<=", query.ratingMax);
  if (query.callSuccessful || query.callFailedStatus) {
    const parts: string[] = [];
    if (query.callSuccessful && query.callSuccessful.length > 0) {
      parts.push(`c.call_successful IN (${query.callSuccessful.map(bind).join(", ")})`);
    }
    if (query.callFailedStatus) parts.push(`c.status = ${bind("failed")}`);
    where.push(`(${parts.join(" OR ")})`);
  }
  inList("main_language", query.mainLanguages);
  if (query.excludeStatuses && query.excludeStatuses.length > 0)
    inList("status", query.excludeStatuses, true);

  // The condition is built after kind and key are bound: `?` placeholders are positional.
  const facet = (kind: FacetKind, key: string, condition: () => string = () => "") => {
    const head = `EXISTS (SELECT 1 FROM facets f WHERE f.seq = c.seq AND f.kind = ${bind(kind)} AND ${equalsAny(dialect, "f.key", [bind(key)])}`;
    return `${head}${condition()})`;
  };
  const valueIn = (values: readonly string[]) => () =>
    ` AND ${equalsAny(dialect, "f.value", values.map(bind))}`;
  for (const anyOf of query.anyOf) {
    if (anyOf.values.length === 0) continue;
    where.push(facet(anyOf.kind, "", valueIn(anyOf.values)));
  }
  for (const { key, value } of query.evaluations) where.push(facet("eval", key, valueIn([value])));
  const keyed = (kind: FacetKind, condition: KeyedCondition) => {
    const [first = ""] = condition.values;
    switch (condition.op) {
      case "eq":
        return first === ""
          ? `NOT ${facet(kind, condition.key)}`
          : facet(kind, condition.key, valueIn([first]));
      case "neq":
        return first === ""
          ? facet(kind, condition.key)
          : facet(kind, condition.key, () => ` AND f.value <> ${bind(first)}`);
      case "in":
        return facet(kind, condition.key, valueIn(condition.values));
      default: {
        const op = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[condition.op];
        return facet(kind, condition.key, () => ` AND f.num ${op} ${bind(Number(first))}`);
      }
    }
  };
  for (const c of query.dataCollection) where.push(keyed("data", c));
  for (const c of query.dynamicVariables) where.push(keyed("dynvar", c));

  if (withSearch && query.search !== undefined) {
    const tokens = tokenizeSearch(query.search);
    if (tokens.length > 0) where.push(dialect.searchCondition(tokens, bind));
  }
  return where;
}

/**
 * Builds the list statement: one query over `conversations c`, filters as conditions on the
 * indexed columns or EXISTS over `facets`, keyset pagination on (start_time, conversation_id).
 * It asks for one row more than the page so the caller knows whether there are more.
 */
export function buildListSql(query: ListQuery, dialect: ListSqlDialect): SqlQuery {
  const { params, bind } = createParams(dialect);
  const where = buildListConditions(query, dialect, bind);
  const cursor = cursorCondition(query, bind);
  if (cursor) where.push(cursor);
  const sql =
    `SELECT ${LIST_COLUMNS} FROM conversations c${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ` +
    `${listOrder(query, dialect)} LIMIT ${bind(query.pageSize + 1)}`;
  return { sql, params };
}

/**
 * The candidate conversations of a message search: the list's filters (search included),
 * newest first, from a position, with the documents to rank messages in.
 */
export function buildCandidateSql(
  query: ListQuery,
  from: CandidatePosition | null,
  limit: number,
  dialect: ListSqlDialect,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  const where = buildListConditions(query, dialect, bind);
  if (from) {
    where.push(
      `(c.start_time, c.conversation_id) ${from.inclusive ? "<=" : "<"} (${bind(from.startTime)}, ${bind(from.conversationId)})`,
    );
  }
  const sql =
    "SELECT c.conversation_id, c.start_time, c.agent_id, c.doc FROM conversations c" +
    `${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ` +
    `ORDER BY ${dialect.sortsMatches ? "(c.start_time + 0)" : "c.start_time"} DESC, c.conversation_id DESC LIMIT ${bind(limit)}`;
  return { sql, params };
}

/** Rows of a candidate walk by time (`buildCandidateWalkSql`): a candidate's `doc`, or a row examined only. */
export interface CandidateWalkDbRow {
  conversation_id: string;
  start_time: number;
  agent_id: string;
  /** The document when the row holds every search word; null for a row only examined. */
  doc: string | null;
  /** The row's place in the walk (1 for the first examined). */
  n: number;
}

/** A list query with the page size and direction of `query` and no filter at all. */
export function unfilteredListQuery(query: ListQuery): ListQuery {
  return {
    pageSize: query.pageSize,
    cursor: null,
    direction: query.direction,
    anyOf: [],
    evaluations: [],
    dataCollection: [],
    dynamicVariables: [],
  };
}

/**
 * The filters a candidate walk by time reads rows through (one indexed equality and the start
 * time bounds, which an index serves in time order), and the rest, checked on each row read.
 */
export function splitWalkFilters(query: ListQuery): { walked: ListQuery; checked: ListQuery } {
  const { agentId, userId, branchId, versionId, startBefore, startAfter, search: _search, ...rest } = query;
  const walked: ListQuery = {
    ...unfilteredListQuery(query),
    ...(startBefore === undefined ? {} : { startBefore }),
    ...(startAfter === undefined ? {} : { startAfter }),
  };
  const checked: ListQuery = { ...rest };
  if (userId !== undefined) walked.userId = userId;
  else if (agentId !== undefined) walked.agentId = agentId;
  else if (branchId !== undefined) walked.branchId = branchId;
  else if (versionId !== undefined) walked.versionId = versionId;
  if (agentId !== undefined && walked.agentId === undefined) checked.agentId = agentId;
  if (branchId !== undefined && walked.branchId === undefined) checked.branchId = branchId;
  if (versionId !== undefined && walked.versionId === undefined) checked.versionId = versionId;
  return { walked, checked };
}

/**
 * A bounded candidate walk by time: the conversations passing the indexed filters (one indexed
 * equality, the start time bounds) are read newest first from a position, at most `budget` of
 * them, and those passing the other filters and holding every search word (as `dialect` writes
 * the condition, which should not be the trigram index's) are returned, at most `limit`, each
 * with its place in the walk. So `budget` bounds the rows read, whatever the filters. The
 * statement stops once `limit` candidates are found, so a common word costs no more than the rows
 * read to find them. Rows come in walk order. When the walk reaches `budget` without `limit`
 * candidates, the rows at the budget and one past it come back (a null `doc` unless a candidate):
 * the first is the position the walk stopped at, the second (when there is one) says it did not
 * end there. Candidates past the budget are not returned.
 * The budget's placeholder is used more than once: for numbered placeholders (`$n`) only.
 */
export function buildCandidateWalkSql(
  query: ListQuery,
  from: CandidatePosition | null,
  limit: number,
  budget: number,
  dialect: ListSqlDialect,
): SqlQuery {
  const { params, bind } = createParams(dialect);
  const { walked, checked } = splitWalkFilters(query);
  const where = buildListConditions(walked, dialect, bind, false);
  if (from) {
    where.push(
      `(c.start_time, c.conversation_id) ${from.inclusive ? "<=" : "<"} (${bind(from.startTime)}, ${bind(from.conversationId)})`,
    );
  }
  const checks = buildListConditions(checked, dialect, bind, false);
  const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
  if (tokens.length > 0) checks.push(dialect.searchCondition(tokens, bind));
  const hit = checks.length > 0 ? checks.map((check) => `(${check})`).join(" AND ") : "TRUE";
  const maxRows = bind(budget);
  const sql =
    `SELECT w.conversation_id, w.start_time, w.agent_id, CASE WHEN w.hit AND w.n <= ${maxRows} THEN w.doc END AS doc, w.n::int AS n FROM (` +
    `SELECT c.conversation_id, c.start_time, c.agent_id, c.doc, (${hit}) AS hit, ` +
    "row_number() OVER (ORDER BY c.start_time DESC, c.conversation_id DESC) AS n FROM conversations c" +
    `${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ` +
    `ORDER BY c.start_time DESC, c.conversation_id DESC LIMIT ${maxRows} + 1) w ` +
    `WHERE (w.hit AND w.n <= ${maxRows}) OR w.n >= ${maxRows} ` +
    `ORDER BY w.start_time DESC, w.conversation_id DESC LIMIT ${bind(limit + 1)}`;
  return { sql, params };
}

/** A row of a bounded list walk (`buildBoundedListSql`): a list row, whether it matches, its place in the walk. */
export interface BoundedListDbRow extends ListDbRow {
  hit: boolean;
  /** The row's place in the walk (1 for the first examined). */
  n: number;
}

/**
 * A list page with search read by a bounded walk: from the cursor, in the list's order, the
 * conversations passing the indexed filters (one indexed equality, the start time bounds) are
 * read, at most `budget` of them, and those passing the other filters and holding every search
 * word (as `dialect` writes the condition, which should not be the trigram index's) are the
 * page's rows. The statement stops once the page is full. When the walk reaches `budget` first,
 * the rows at the budget and one past it come back too (`hit` may be false): the first is where
 * the walk stopped, the second says it did not end there.
 * The budget's placeholder is used more than once: for numbered placeholders (`$n`) only.
 */
export function buildBoundedListSql(query: ListQuery, budget: number, dialect: ListSqlDialect): SqlQuery {
  const { params, bind } = createParams(dialect);
  const { walked, checked } = splitWalkFilters(query);
  const where = buildListConditions(walked, dialect, bind, false);
  const cursor = cursorCondition(query, bind);
  if (cursor) where.push(cursor);
  const checks = buildListConditions(checked, dialect, bind, false);
  const tokens = query.search === undefined ? [] : tokenizeSearch(query.search);
  if (tokens.length > 0) checks.push(dialect.searchCondition(tokens, bind));
  const hit = checks.length > 0 ? checks.map((check) => `(${check})`).join(" AND ") : "TRUE";
  const order = listOrder(query);
  // The outer order is the inner one (not `n`), so the planner streams the walk and stops once
  // the page is full, rather than reading the whole budget to sort by `n`.
  const dir = query.direction === "desc" ? "DESC" : "ASC";
  const outerOrder = `ORDER BY w.start_time ${dir}, w.conversation_id ${dir}`;
  const maxRows = bind(budget);
  const sql =
    "SELECT w.start_time, w.conversation_id, w.list_item, w.transcript_summary, w.eval_results, w.data_results, " +
    `w.hit, w.n::int AS n FROM (SELECT ${LIST_COLUMNS}, (${hit}) AS hit, row_number() OVER (${order}) AS n ` +
    `FROM conversations c${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ${order} LIMIT ${maxRows} + 1) w ` +
    `WHERE (w.hit AND w.n <= ${maxRows}) OR w.n >= ${maxRows} ${outerOrder} LIMIT ${bind(query.pageSize + 3)}`;
  return { sql, params };
}
