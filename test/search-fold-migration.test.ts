/**
 * The migrations that fold the search text of an existing database (SQLite schema version 5,
 * PostgreSQL 6): every row ends up as `foldForSearch` of what was stored, with its key unchanged,
 * across more rows than one PostgreSQL batch and with gaps in the SQLite keys; and search then
 * finds text that was stored in upper case.
 */
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import { foldForSearch } from "../src/domain/search-fold.js";
import { postgresMigrations } from "../src/store/postgres/migrations.js";
import { sqliteMigrations } from "../src/store/sqlite/migrations.js";
import { SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";
import { buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage } from "./support/backends.js";
import { listQuery } from "./support/list-query.js";
import { queryTestDatabase } from "./support/postgres-schema.js";

/** More rows than the PostgreSQL migration reads in one batch (500). */
const ROWS = 1_234;

/** The search text as an older version stored it: as written, upper case and all. */
function storedText(i: number): string {
  const texts = [
    "plain ascii, nothing to fold",
    "Ich habe großen ÄRGER mit der Lieferung",
    "İSTANBUL şubesi, IRMAK bey",
    "Η ΟΔΟΣ είναι κλειστή",
    "注文したテレビが届きません",
    "UPPER CASE ASCII",
  ];
  return `${texts[i % texts.length]} #${i}`;
}

const idAt = (i: number) => `conv_${String(i).padStart(5, "0")}`;
const record = buildConversationRecord(buildConversation({ id: "conv_template" }));

async function idsFound(storage: ReturnType<typeof createTestStorage>, search: string): Promise<number> {
  const database = await storage.open();
  try {
    return (await database.conversations.listConversations(listQuery({ search, pageSize: 100 }))).items
      .length;
  } finally {
    await database.close();
  }
}

describe("the search-fold migration on an existing SQLite database", () => {
  it("folds every row a version 4 database stored as written, keeping each key", async () => {
    const storage = createTestStorage("sqlite");
    try {
      const file = path.join(storage.dataDir, SQLITE_FILE_NAME);
      const db = new BetterSqlite3(file);
      for (const migration of sqliteMigrations.slice(0, 4)) db.exec(String(migration));
      db.exec(
        "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4)",
      );
      const conversation = db.prepare(
        `INSERT INTO conversations (conversation_id, agent_id, status, start_time, duration, call_successful,
         has_feedback_comment, doc, list_item, sort_key, updated_at)
         VALUES (?, 'agent', 'done', ?, 1, 'success', 0, ?, ?, ?, 0)`,
      );
      const text = db.prepare("INSERT INTO conversation_text (rowid, body) VALUES (?, ?)");
      // Keys with gaps (every third key is skipped), as deletes leave them.
      const keyAt = (i: number) => 10 + i * 3;
      db.transaction(() => {
        for (let i = 0; i < ROWS; i++) {
          conversation.run(idAt(i), i, record.json, record.listItemJson, keyAt(i));
          text.run(keyAt(i), storedText(i));
        }
      })();
      db.close();

      expect(await idsFound(storage, "ÄRGER")).toBe(Math.min(100, Math.ceil((ROWS - 1) / 6)));
      const migrated = new BetterSqlite3(file, { readonly: true });
      try {
        const rows = migrated
          .prepare("SELECT rowid AS k, body FROM conversation_text ORDER BY rowid")
          .all() as {
          k: number;
          body: string;
        }[];
        expect(rows).toEqual(
          Array.from({ length: ROWS }, (_, i) => ({ k: keyAt(i), body: foldForSearch(storedText(i)) })),
        );
      } finally {
        migrated.close();
      }
    } finally {
      await storage.cleanup();
    }
  });
});

describe.skipIf(!BACKENDS.includes("postgres"))(
  "the search-fold migration on an existing PostgreSQL database",
  () => {
    it("folds every row a version 5 database stored as written, over several batches", async () => {
      const storage = createTestStorage("postgres");
      const url = storage.databaseUrl ?? "";
      try {
        const schema = /search_path=(\w+)/.exec(new URL(url).searchParams.get("options") ?? "")?.[1] ?? "";
        await queryTestDatabase(url, `CREATE SCHEMA ${schema}`);
        for (const migration of postgresMigrations.slice(0, 5))
          await queryTestDatabase(url, String(migration));
        await queryTestDatabase(url, "CREATE TABLE schema_version (version INTEGER NOT NULL)");
        await queryTestDatabase(url, "INSERT INTO schema_version (version) VALUES (5)");
        await queryTestDatabase(
          url,
          `INSERT INTO conversations (conversation_id, agent_id, status, start_time, duration, call_successful,
         has_feedback_comment, doc, list_item, search_text, updated_at)
         SELECT id, 'agent', 'done', n, 1, 'success', false, $1, $2, text, 0
         FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS v(id, text, n)`,
          [
            record.json,
            record.listItemJson,
            Array.from({ length: ROWS }, (_, i) => idAt(i)),
            Array.from({ length: ROWS }, (_, i) => storedText(i)),
          ],
        );

        expect(await idsFound(storage, "ÄRGER")).toBe(Math.min(100, Math.ceil((ROWS - 1) / 6)));
        const rows = await queryTestDatabase(
          url,
          "SELECT conversation_id, search_text FROM conversations ORDER BY conversation_id",
        );
        expect(rows).toEqual(
          Array.from({ length: ROWS }, (_, i) => ({
            conversation_id: idAt(i),
            search_text: foldForSearch(storedText(i)),
          })),
        );
      } finally {
        await storage.cleanup();
      }
    });
  },
);
