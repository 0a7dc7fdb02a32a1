import { mkdirSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { type Database, SchemaTooNewError } from "../store.js";
import { sqliteMigrations } from "./migrations.js";
import { SqliteAnalysisSettingsStore } from "./sqlite-analysis-settings-store.js";
import { SqliteConversationStore } from "./sqlite-conversation-store.js";
import { SqliteConversationFileStore } from "./sqlite-file-store.js";
import { SqliteKeyStore } from "./sqlite-key-store.js";
import { SqliteMessageSearchStore } from "./sqlite-message-search-store.js";
import { SqliteSipMessageStore } from "./sqlite-sip-message-store.js";
import { SqliteSyncStateStore } from "./sqlite-sync-state-store.js";
import { SqliteTagStore } from "./sqlite-tag-store.js";
import { SqliteTopicStore } from "./sqlite-topic-store.js";
import { SqliteWebhookStore } from "./sqlite-webhook-store.js";

/** The SQLite file inside the data directory. */
export const SQLITE_FILE_NAME = "openconvai.sqlite";

/** Applies the connection settings openconvai relies on; the one place SQLite is tuned. */
function tune(db: BetterSqlite3.Database, workload: Workload): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  db.pragma("temp_store = MEMORY");
  // A 32 MiB page cache and no memory map keep the server's RSS small and predictable at any
  // database size; the OS page cache still holds the hot parts of the file.
  db.pragma("cache_size = -32768");
  if (workload === "bulk") {
    // Bulk loads write large transactions: a bigger cache and rarer checkpoints save page writes.
    db.pragma("cache_size = -262144");
    db.pragma("wal_autocheckpoint = 20000");
  }
}

/** What a connection is for: serving (the default) or loading conversations in bulk (import, sync). */
export type Workload = "serve" | "bulk";

/**
 * Brings the schema up to date in one immediate transaction (so two processes starting on a
 * fresh data dir take turns); refuses a database from a newer version.
 */
function migrate(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > sqliteMigrations.length) throw new SchemaTooNewError(current, sqliteMigrations.length);
    if (current === sqliteMigrations.length) return;
    for (const sql of sqliteMigrations.slice(current)) db.exec(sql);
    db.prepare("DELETE FROM schema_version").run();
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(sqliteMigrations.length);
  }).immediate();
}

/** Opens (creating if needed) the SQLite database in a data directory, or at `:memory:`. */
export function openSqliteDatabase(
  location: { dataDir: string } | { file: string },
  workload: Workload = "serve",
): Database {
  let file: string;
  if ("dataDir" in location) {
    mkdirSync(location.dataDir, { recursive: true });
    file = path.join(location.dataDir, SQLITE_FILE_NAME);
  } else {
    file = location.file;
  }
  const db = new BetterSqlite3(file);
  try {
    tune(db, workload);
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    kind: "sqlite",
    conversations: new SqliteConversationStore(db),
    keys: new SqliteKeyStore(db),
    messageSearch: new SqliteMessageSearchStore(db),
    analysisSettings: new SqliteAnalysisSettingsStore(db),
    webhooks: new SqliteWebhookStore(db),
    syncState: new SqliteSyncStateStore(db),
    tags: new SqliteTagStore(db),
    conversationFiles: new SqliteConversationFileStore(db),
    sipMessages: new SqliteSipMessageStore(db),
    topics: new SqliteTopicStore(db),
    close: async () => {
      if (db.open) {
        db.pragma("optimize");
        db.close();
      }
    },
  };
}
