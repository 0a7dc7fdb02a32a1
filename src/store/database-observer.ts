/**
 * What the database tells an observer (the server's metrics) when one is handed to `openDatabase`.
 * Only PostgreSQL reports: SQLite runs in the process, one synchronous statement at a time, with
 * no pool to watch, so it reports nothing.
 */
export interface DatabaseObserver {
  /** A query finished after `seconds` (waiting for a pooled connection not included); `failed` when it rejected. */
  queryDone(seconds: number, failed: boolean): void;
  /** The connection pool is open: its counts can be read from now on (they stay readable after close). */
  poolOpened(pool: PoolCounts): void;
}

/** A connection pool's counts, read when asked. */
export interface PoolCounts {
  /** Connections open (idle or in use). */
  readonly total: number;
  /** Connections open and not in use. */
  readonly idle: number;
  /** Queries waiting for a connection (every one is in use and the pool is full). */
  readonly waiting: number;
  /** The most connections the pool opens. */
  readonly max: number;
}
