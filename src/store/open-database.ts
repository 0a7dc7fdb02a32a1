import { openPostgresDatabase } from "./postgres/postgres-database.js";
import { openSqliteDatabase, type Workload } from "./sqlite/sqlite-database.js";
import type { Database } from "./store.js";

/** Opens the configured backend: PostgreSQL for a postgres:// URL, otherwise SQLite in the data dir. */
export async function openDatabase(options: {
  dataDir: string;
  databaseUrl: string | undefined;
  /** Bulk loading (import) tunes SQLite for large transactions. */
  workload?: Workload;
}): Promise<Database> {
  if (options.databaseUrl) return openPostgresDatabase(options.databaseUrl);
  return openSqliteDatabase({ dataDir: options.dataDir }, options.workload);
}
