import { mkdirSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { type Database, SchemaTooNewError } from "../store.js";
import { sqliteMigrations } from "./migrations.js";
import { SqliteAgentStore } from "./sqlite-agent-store.js";
import { SqliteAnalysisSettingsStore } from "./sqlite-analysis-settings-store.js";
import { SqliteConversationSignatureStore } from "./sqlite-conversation-signature-store.js";
import { SqliteConversationStatsStore } from "./sqlite-conversation-stats-store.js";
import { SqliteConversationStore } from "./sqlite-conversation-store.js";
import { SqliteConversationFileStore } from "./sqlite-file-store.js";
import { SqliteJobLocks } from "./sqlite-job-locks.js";
import { SqliteKeyStore } from "./sqlite-key-store.js";
import { SqliteLiveSessionStore } from "./sqlite-live-session-store.js";
import { SqliteMessageSearchStore } from "./sqlite-message-search-store.js";
import { SqliteOutgoingWebhookStore } from "./sqlite-outgoing-webhook-store.js";
import { SqliteRetentionStore } from "./sqlite-retention-store.js";
import {
  type SqliteServerLock,
  SqliteServerLockedError,
  takeSqliteServerLock,
} from "./sqlite-server-lock.js";
import { SqliteSipMessageStore } from "./sqlite-sip-message-store.js";
import { SqliteSyncStateStore } from "./sqlite-sync-state-store.js";
import { SqliteTagStore } from "./sqlite-tag-store.js";
import { SqliteTopicStore } from "./sqlite-topic-store.js";
import { SqliteTracePushStore } from "./sqlite-trace-push-store.js";
import { SqliteWebhookStore } from "./sqlite-webhook-store.js";
import { WalCheckpointer } from "./wal-checkpointer.js";

/** The SQLite file inside the data directory. */
export const SQLITE_FILE_NAME = "openconvai.sqlite";

/** The page size of a database this version creates, in bytes. */
export const SQLITE_PAGE_SIZE = 8192;

/** Applies the connection settings openconvai relies on; the one place SQLite is tuned. */
function tune(db: BetterSqlite3.Database, workload: Workload): void {
  // Set before the first table exists, so only a new database takes it (an existing one keeps its
  // own). A served document (~15 KB) spans two or three 8 KiB pages instead of four or five 4 KiB
  // ones: GET details reads fewer pages; 16 KiB read no faster and made small writes slower
  // (docs/design-notes.md, "SQLite's page size").
  db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
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
    for (const migration of sqliteMigrations.slice(current)) {
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
    }
    db.prepare("DELETE FROM schema_version").run();
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(sqliteMigrations.length);
  }).immediate();
}

/**
 * Makes sure the database can be written now, without changing it: a write in a transaction that
 * is rolled back. SQLite opens a file it may not write read-only without a word, so without this
 * a server would start and then answer 500 to its first write.
 */
function checkWritable(db: BetterSqlite3.Database): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.prepare("UPDATE schema_version SET version = version").run();
  } finally {
    db.exec("ROLLBACK");
  }
}

/**
 * Says in one sentence, with the next step, why the SQLite database at `file` could not be opened,
 * or returns undefined for an error that is not about the file (a bug, shown with its stack).
 */
export function describeSqliteOpenError(error: unknown, file: string): string | undefined {
  if (error instanceof SqliteServerLockedError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return undefined;
  const where = `the SQLite database ${file}`;
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "SQLITE_AUTH") {
    return (
      `${where} is read-only for this process: make the file, its -wal and -shm files and its directory writable ` +
      "by the user running openconvai, or point --data / --database-url at a writable place."
    );
  }
  if (code.startsWith("SQLITE_CANTOPEN")) {
    return (
      `cannot open ${where}: check that ${path.dirname(file)} is a directory this user can read and write, ` +
      "or point --data / --database-url elsewhere."
    );
  }
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) {
    return (
      `${file} is not a usable SQLite database (${code}): check --data / --database-url points at openconvai's ` +
      "database, or restore it from a backup."
    );
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return `${where} stayed locked by another process for 5 seconds: stop the other process (an import, a second server), then start again.`;
  }
  if (code === "SQLITE_FULL") return `the disk holding ${where} is full: free some space, then start again.`;
  if (code.startsWith("SQLITE_IOERR")) {
    return `reading or writing ${where} failed (${code}): check the disk and the file system it is on.`;
  }
  return undefined;
}

/**
 * Opens (creating if needed) the SQLite database in a data directory, or at `:memory:`. With
 * `serverLock` (the `serve` command) it first takes the one-server lock (`sqlite-server-lock.ts`):
 * a second server on the same file is refused before anything is opened.
 */
export function openSqliteDatabase(
  location: { dataDir: string } | { file: string },
  workload: Workload = "serve",
  options: { serverLock?: boolean } = {},
): Database {
  let file: string;
  if ("dataDir" in location) {
    mkdirSync(location.dataDir, { recursive: true });
    file = path.join(location.dataDir, SQLITE_FILE_NAME);
  } else {
    file = location.file;
  }
  const serverLock: SqliteServerLock | undefined =
    options.serverLock && file !== ":memory:" ? takeSqliteServerLock(file) : undefined;
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file);
  } catch (error) {
    serverLock?.release();
    throw error;
  }
  try {
    tune(db, workload);
    migrate(db);
    checkWritable(db);
  } catch (error) {
    db.close();
    serverLock?.release();
    throw error;
  }
  // A serving connection checkpoints in the background (see wal-checkpointer.ts); bulk loads keep
  // SQLite's own, rarer checkpoints.
  const checkpointer =
    workload === "serve" && file !== ":memory:"
      ? new WalCheckpointer(db, file, (message) => process.emitWarning(message, "SQLiteCheckpoint"))
      : undefined;
  return {
    kind: "sqlite",
    conversations: new SqliteConversationStore(db),
    keys: new SqliteKeyStore(db),
    messageSearch: new SqliteMessageSearchStore(db),
    analysisSettings: new SqliteAnalysisSettingsStore(db),
    agents: new SqliteAgentStore(db),
    conversationSignatures: new SqliteConversationSignatureStore(db),
    liveSessions: new SqliteLiveSessionStore(db),
    outgoingWebhooks: new SqliteOutgoingWebhookStore(db),
    webhooks: new SqliteWebhookStore(db),
    syncState: new SqliteSyncStateStore(db),
    tags: new SqliteTagStore(db),
    conversationFiles: new SqliteConversationFileStore(db),
    sipMessages: new SqliteSipMessageStore(db),
    topics: new SqliteTopicStore(db),
    conversationStats: new SqliteConversationStatsStore(db),
    jobLocks: new SqliteJobLocks(),
    retention: new SqliteRetentionStore(db),
    tracePushes: new SqliteTracePushStore(db),
    // Synchronous and lock-free (a read of no table), so it answers at once or throws (closed).
    ping: async () => {
      db.prepare("SELECT 1").get();
    },
    close: async () => {
      // The checkpointer's connection closes first, so this one is the last: closing it moves
      // the whole log into the database file.
      await checkpointer?.stop();
      if (db.open) {
        try {
          db.pragma("optimize");
        } finally {
          db.close();
        }
      }
      // Last: another server may take the file only once this one has let go of it.
      serverLock?.release();
    },
  };
}
