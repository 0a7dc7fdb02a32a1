import { escapeLike, type ListSqlDialect } from "../list-sql.js";

/** PostgreSQL's list dialect: `$n` placeholders and one ILIKE per search token, answered by the trigram index. */
export const postgresListDialect: ListSqlDialect = {
  placeholder: (n) => `$${n}`,
  searchCondition(tokens, bind) {
    return tokens
      .map((token) => `c.search_text ILIKE ${bind(`%${escapeLike(token)}%`)} ESCAPE '\\'`)
      .join(" AND ");
  },
};

/**
 * The same search, written so the trigram index cannot serve it: the planner then walks the
 * start-time index and checks rows until the page is full. For a word in many conversations
 * that is far cheaper than fetching and sorting every match.
 */
export const postgresScanDialect: ListSqlDialect = {
  placeholder: postgresListDialect.placeholder,
  searchCondition(tokens, bind) {
    return tokens
      .map((token) => `(c.search_text || '') ILIKE ${bind(`%${escapeLike(token)}%`)} ESCAPE '\\'`)
      .join(" AND ");
  },
};
