import { escapeLike, type ListSqlDialect } from "../list-sql.js";

/**
 * An indexed text column equal to one of the values: the indexes hold `hashtextextended(column, 0)`
 * (schema version 5, so values of any length fit), so the hash is compared first, then the value.
 */
export function hashedEqualsAny(column: string, placeholders: readonly string[]): string {
  const hash = (expression: string) => `hashtextextended(${expression}, 0)`;
  return placeholders.length === 1
    ? `${hash(column)} = ${hash(`${placeholders[0]}::text`)} AND ${column} = ${placeholders[0]}`
    : `${hash(column)} IN (${placeholders.map((p) => hash(`${p}::text`)).join(", ")}) ` +
        `AND ${column} IN (${placeholders.join(", ")})`;
}

/**
 * PostgreSQL's list dialect: `$n` placeholders and one LIKE per search token, answered by the
 * trigram index. The text and the tokens are both folded for search (`foldForSearch`), so LIKE
 * (not the locale's ILIKE) matches exactly as SQLite does.
 */
export const postgresListDialect: ListSqlDialect = {
  placeholder: (n) => `$${n}`,
  equalsAny: hashedEqualsAny,
  searchCondition(tokens, bind) {
    return tokens
      .map((token) => `c.search_text LIKE ${bind(`%${escapeLike(token)}%`)} ESCAPE '\\'`)
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
  equalsAny: hashedEqualsAny,
  searchCondition(tokens, bind) {
    return tokens
      .map((token) => `(c.search_text || '') LIKE ${bind(`%${escapeLike(token)}%`)} ESCAPE '\\'`)
      .join(" AND ");
  },
};

/**
 * The list dialect for a search whose words are rare (a probe found few matches): the trigram
 * index finds every match and they are sorted, where the start-time index would be walked through
 * thousands of conversations for each page.
 */
export const postgresMatchesDialect: ListSqlDialect = { ...postgresListDialect, sortsMatches: true };
