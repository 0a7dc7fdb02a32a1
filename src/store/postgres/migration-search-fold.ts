import type pg from "pg";
import { foldForSearch } from "../../domain/search-fold.js";

/** Rows one step of the migration reads and rewrites. */
const BATCH = 500;

/**
 * Schema version 6: the search text folded for search (`foldForSearch`) in this process, so both
 * backends fold alike whatever the database's locale; queries are folded the same way and
 * matched with LIKE. Only rows holding an upper-case ASCII letter or any non-ASCII character
 * can change; they are read and rewritten in batches, in the migration's transaction.
 */
export async function postgresSearchFoldMigration(client: pg.PoolClient): Promise<void> {
  let after = "";
  for (;;) {
    const { rows } = await client.query<{ conversation_id: string; search_text: string }>(
      "SELECT conversation_id, search_text FROM conversations " +
        "WHERE conversation_id > $1 AND search_text ~ '[A-Z]|[^\\x01-\\x7f]' ORDER BY conversation_id LIMIT $2",
      [after, BATCH],
    );
    const changed = rows.filter((r) => foldForSearch(r.search_text) !== r.search_text);
    if (changed.length > 0) {
      await client.query(
        "UPDATE conversations c SET search_text = v.search_text " +
          "FROM unnest($1::text[], $2::text[]) AS v(conversation_id, search_text) " +
          "WHERE c.conversation_id = v.conversation_id",
        [changed.map((r) => r.conversation_id), changed.map((r) => foldForSearch(r.search_text))],
      );
    }
    const last = rows[rows.length - 1];
    if (rows.length < BATCH || !last) return;
    after = last.conversation_id;
  }
}
