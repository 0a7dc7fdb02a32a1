import type { ListSqlDialect } from "../list-sql.js";
import type { Bind } from "../sql-params.js";

/**
 * Conditions on the search text aliased `t`, one per token. A plain LIKE lets the trigram index
 * answer; a token holding `%` or `_` would need LIKE's ESCAPE, which the index cannot serve, so
 * it is matched with instr() instead. Both the text and the tokens are folded for search
 * (`foldForSearch`), so neither needs to fold case.
 */
export function searchConditions(tokens: string[], bind: Bind): string {
  return tokens
    .map((token) =>
      /[%_]/.test(token) ? `instr(t.body, ${bind(token)}) > 0` : `t.body LIKE ${bind(`%${token}%`)}`,
    )
    .join(" AND ");
}

/**
 * SQLite's list dialect: `?` placeholders; search as LIKE over the FTS5 trigram table (the index
 * answers tokens of three or more characters; shorter ones are checked against the text).
 */
export const sqliteListDialect: ListSqlDialect = {
  placeholder: () => "?",
  searchCondition: (tokens, bind) =>
    `EXISTS (SELECT 1 FROM conversation_text t WHERE t.rowid = c.sort_key AND ${searchConditions(tokens, bind)})`,
};
