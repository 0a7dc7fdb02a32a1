import pg from "pg";

/** Drops the schema a test URL's search_path points at. */
export async function dropTestSchema(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const schema = /search_path=(\w+)/.exec(url.searchParams.get("options") ?? "")?.[1];
  if (!schema) return;
  url.searchParams.delete("options");
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one statement on a test URL (search_path included) and returns its rows: for tests that look past the store. */
export async function queryTestDatabase(
  databaseUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}
