import type BetterSqlite3 from "better-sqlite3";
import { foldForSearch } from "../../domain/search-fold.js";

/**
 * Schema version 5: the search text folded for search (`foldForSearch`), so a search finds every
 * cased letter in any case, as on PostgreSQL. Earlier versions stored the text as written and
 * folded ASCII only. The index is rebuilt into a new table in key order (far faster than
 * updating most of its rows in place), which then takes the old one's name.
 */
export function sqliteSearchFoldMigration(db: BetterSqlite3.Database): void {
  db.function("openconvai_fold_for_search", { deterministic: true }, (text: unknown) =>
    typeof text === "string" ? foldForSearch(text) : text,
  );
  db.exec(`
    CREATE VIRTUAL TABLE conversation_text_folded USING fts5 (body, tokenize = 'trigram', detail = none);
    INSERT INTO conversation_text_folded (rowid, body)
      SELECT rowid, openconvai_fold_for_search(body) FROM conversation_text ORDER BY rowid;
    DROP TABLE conversation_text;
    ALTER TABLE conversation_text_folded RENAME TO conversation_text;
  `);
}
