import { realpathSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";

/** Another server process holds the SQLite database; the message says what to do, in one line. */
export class SqliteServerLockedError extends Error {
  constructor(file: string, options: { cause: unknown }) {
    super(
      `the SQLite database ${file} is already served by another openconvai process, and only one server may use a SQLite file: ` +
        "stop the other server first, or use PostgreSQL (--database-url / DATABASE_URL postgres://…) to run several nodes on one database.",
      options,
    );
    this.name = "SqliteServerLockedError";
  }
}

/** The server's hold on a SQLite database, let go at `release` or when the process exits. */
export interface SqliteServerLock {
  release(): void;
}

/**
 * Takes the one-server lock of a SQLite database: an exclusive transaction held, for the server's
 * lifetime, on a connection of its own to the sibling file `<db>.server-lock`. The lock is the
 * operating system's file lock, so the kernel lets go of it when the process exits however it
 * exits (a crash, SIGKILL), and no stale PID file is ever left behind. A second server gets
 * SQLITE_BUSY at once (no busy timeout) and is refused with {@link SqliteServerLockedError}.
 * Commands (import, export, keys, …) never take it, so they still work beside a running server.
 * The lock file is named after the database's real path, so a path through a symlink (to the file
 * or to a folder above it) takes the same lock.
 */
export function takeSqliteServerLock(file: string): SqliteServerLock {
  const lock = new BetterSqlite3(`${canonicalPath(file)}.server-lock`);
  try {
    lock.pragma("busy_timeout = 0");
    lock.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    lock.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) {
      throw new SqliteServerLockedError(file, { cause: error });
    }
    throw error;
  }
  return {
    release: () => {
      if (!lock.open) return;
      lock.exec("ROLLBACK");
      lock.close();
    },
  };
}

/**
 * The database file's path with every symlink resolved; before the file exists, its folder's real
 * path with the file's name.
 */
function canonicalPath(file: string): string {
  try {
    return realpathSync(file);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
    return path.join(realpathSync(path.dirname(file)), path.basename(file));
  }
}
