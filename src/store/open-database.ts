import path from "node:path";
import type { DatabaseObserver } from "./database-observer.js";
import { describePostgresOpenError, openPostgresDatabase } from "./postgres/postgres-database.js";
import {
  describeSqliteOpenError,
  openSqliteDatabase,
  SQLITE_FILE_NAME,
  type Workload,
} from "./sqlite/sqlite-database.js";
import type { Database } from "./store.js";

/** The configured database could not be opened; the message says why and what to do, in one line. */
export class DatabaseOpenError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = "DatabaseOpenError";
  }
}

/**
 * Opens the configured backend: PostgreSQL for a postgres:// URL, otherwise SQLite (the file a
 * sqlite: URL named, or `openconvai.sqlite` in the data dir). A failure that is about the server,
 * the URL or the file (unreachable, refused, missing, read-only, …) is a {@link DatabaseOpenError}.
 */
export async function openDatabase(options: {
  dataDir: string;
  databaseUrl: string | undefined;
  /** The SQLite file, when not the data dir's. */
  sqliteFile?: string | undefined;
  /** Bulk loading (import) tunes SQLite for large transactions. */
  workload?: Workload;
  /** This process is the server: on SQLite it takes the one-server lock, so a second server is refused. */
  serverLock?: boolean;
  /** Told of query times and the pool (PostgreSQL only; SQLite reports nothing). */
  observer?: DatabaseObserver;
  /** How long one PostgreSQL statement may run, in ms (0: no timeout); unset, the store's default. */
  statementTimeoutMs?: number;
}): Promise<Database> {
  const { databaseUrl, sqliteFile } = options;
  if (databaseUrl) {
    try {
      return await openPostgresDatabase(databaseUrl, {
        ...(options.observer ? { observer: options.observer } : {}),
        ...(options.statementTimeoutMs !== undefined
          ? { statementTimeoutMs: options.statementTimeoutMs }
          : {}),
      });
    } catch (error) {
      const message = describePostgresOpenError(error, databaseUrl);
      throw message === undefined ? error : new DatabaseOpenError(message, { cause: error });
    }
  }
  const file = sqliteFile ?? path.join(options.dataDir, SQLITE_FILE_NAME);
  try {
    return sqliteFile
      ? openSqliteDatabase({ file: sqliteFile }, options.workload, { serverLock: options.serverLock })
      : openSqliteDatabase({ dataDir: options.dataDir }, options.workload, {
          serverLock: options.serverLock,
        });
  } catch (error) {
    const message = describeSqliteOpenError(error, file);
    throw message === undefined ? error : new DatabaseOpenError(message, { cause: error });
  }
}
