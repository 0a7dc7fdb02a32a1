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
