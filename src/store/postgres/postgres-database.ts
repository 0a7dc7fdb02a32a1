import type { Database } from "../store.js";

/** Opens a PostgreSQL database at a postgres:// URL, migrated and ready. */
export async function openPostgresDatabase(
  _url: string,
  _options: { schema?: string } = {},
): Promise<Database> {
  throw new Error("PostgreSQL support is not built yet");
}
