import type BetterSqlite3 from "better-sqlite3";
import type { ListPage, ListQuery } from "../../domain/list-query.js";
import { type ListDbRow, toListPage } from "../db-rows.js";
import { buildListConditions, cursorCondition, LIST_COLUMNS } from "../list-sql.js";
import { createParams } from "../sql-params.js";
import type { ListRow } from "../store.js";
import { secondOfSortKey, sortKeyCeiling, sortKeyFloor } from "./sort-key.js";
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
