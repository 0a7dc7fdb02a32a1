import pg from "pg";
import { type Database, SchemaTooNewError } from "../store.js";
import { postgresMigrations } from "./migrations.js";
import { PostgresAnalysisSettingsStore } from "./postgres-analysis-settings-store.js";
import { PostgresConversationStore } from "./postgres-conversation-store.js";
import { PostgresConversationFileStore } from "./postgres-file-store.js";
import { PostgresKeyStore } from "./postgres-key-store.js";
import { PostgresMessageSearchStore } from "./postgres-message-search-store.js";
import { PostgresSipMessageStore } from "./postgres-sip-message-store.js";
import { PostgresSyncStateStore } from "./postgres-sync-state-store.js";
import { PostgresTagStore } from "./postgres-tag-store.js";
import { PostgresTopicStore } from "./postgres-topic-store.js";
import { PostgresWebhookStore } from "./postgres-webhook-store.js";

/** Connections per process unless told otherwise: enough for concurrent requests, polite to a shared server. */
export const DEFAULT_POOL_SIZE = 10;

/** Every openconvai node takes this transaction-level advisory lock to migrate, so nodes starting together take turns. */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('openconvai.migrations', 0))";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options for {@link openPostgresDatabase}. */
export interface PostgresOptions {
  /** A schema to use (created if missing) instead of the first one on the URL's search_path. */
  schema?: string;
  /** The pool's maximum number of connections. */
  maxConnections?: number;
}

/** Splits a `SHOW search_path` value into schema names, unquoted. */
function parseSearchPath(value: string): string[] {
  const names: string[] = [];
  for (const match of value.matchAll(/"((?:[^"]|"")*)"|([^,\s][^,]*)/g)) {
    names.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] ?? "").trim());
  }
  return names;
}

/** Describes where the URL points, without its password, for error messages. */
function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "the configured server";
  }
}

/** Adds `-c search_path=<schema>,public` to the URL's connection options. */
function withSchema(url: string, schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`Invalid PostgreSQL schema name: ${JSON.stringify(schema)}`);
  const u = new URL(url);
  const options = u.searchParams.get("options");
  u.searchParams.set("options", `${options ? `${options} ` : ""}-c search_path=${schema},public`);
  return u.toString();
}

/**
 * Makes sure the first schema on the search_path exists (a URL may name one that does not yet)
 * and returns the schema unqualified names now resolve to.
 */
async function ensureSchema(client: pg.PoolClient): Promise<string> {
  const shown = await client.query<{ search_path: string }>("SHOW search_path");
  const first = parseSearchPath(shown.rows[0]?.search_path ?? "").find((s) => s !== "$user");
  if (first !== undefined) {
    const exists = await client.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [first]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when it exists.
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(first)}`);
  }
  const current = await client.query<{ schema: string | null }>("SELECT current_schema() AS schema");
  const schema = current.rows[0]?.schema;
  if (!schema) throw new Error("The PostgreSQL search_path names no schema to store openconvai's tables in.");
  return schema;
}

/** Creates pg_trgm in `public` if it is missing; the search index needs its operator class there. */
async function ensureTrigramExtension(client: pg.PoolClient): Promise<void> {
  const found = await client.query<{ schema: string }>(
    "SELECT n.nspname AS schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
  );
  const installedIn = found.rows[0]?.schema;
  if (installedIn === "public") return;
  if (installedIn !== undefined) {
    throw new Error(
      `openconvai needs the pg_trgm extension in schema public, but it is installed in ${installedIn}. ` +
        "Move it with: ALTER EXTENSION pg_trgm SET SCHEMA public;",
    );
  }
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
  } catch (error) {
    throw new Error(
      `openconvai needs the PostgreSQL extension pg_trgm for search, and could not create it (${(error as Error).message}). ` +
        "Install it (it ships with PostgreSQL's contrib package) and have a superuser run: CREATE EXTENSION pg_trgm SCHEMA public;",
      { cause: error },
    );
  }
}

/**
 * Brings the schema up to date in one transaction under the migration lock; refuses a database
 * from a newer version.
 */
async function migrate(client: pg.PoolClient): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(MIGRATION_LOCK_SQL);
    const schema = await ensureSchema(client);
    const table = `${pg.escapeIdentifier(schema)}.schema_version`;
    // Looked up in this schema only: another schema on the path may hold an older openconvai's tables.
    const hasTable = await client.query(
      "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'schema_version'",
      [schema],
    );
    let current = 0;
    if (hasTable.rowCount === 0) {
      await client.query(`CREATE TABLE ${table} (version INTEGER NOT NULL)`);
    } else {
      const row = await client.query<{ version: number }>(`SELECT version FROM ${table}`);
      current = row.rows[0]?.version ?? 0;
    }
    if (current > postgresMigrations.length) throw new SchemaTooNewError(current, postgresMigrations.length);
    if (current < postgresMigrations.length) {
      await ensureTrigramExtension(client);
      for (const sql of postgresMigrations.slice(current)) await client.query(sql);
      await client.query(`DELETE FROM ${table}`);
      await client.query(`INSERT INTO ${table} (version) VALUES ($1)`, [postgresMigrations.length]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Opens a PostgreSQL database at a postgres:// URL, migrated and ready. */
export async function openPostgresDatabase(url: string, options: PostgresOptions = {}): Promise<Database> {
  // Per pool, not global: BIGINT columns (seq, counts, sizes, times) come back as numbers. They stay
  // far below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  const pool = new pg.Pool({
    connectionString: options.schema ? withSchema(url, options.schema) : url,
    max: options.maxConnections ?? DEFAULT_POOL_SIZE,
    fallback_application_name: "openconvai",
    types,
  });
  // An idle connection that breaks (a server restart) is dropped by the pool; the next query reconnects.
  pool.on("error", () => undefined);

  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new Error(`Cannot connect to PostgreSQL at ${describeServer(url)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }

  let closed = false;
  return {
    kind: "postgres",
    conversations: new PostgresConversationStore(pool),
    keys: new PostgresKeyStore(pool),
    messageSearch: new PostgresMessageSearchStore(pool),
    analysisSettings: new PostgresAnalysisSettingsStore(pool),
    webhooks: new PostgresWebhookStore(pool),
    syncState: new PostgresSyncStateStore(pool),
    tags: new PostgresTagStore(pool),
    conversationFiles: new PostgresConversationFileStore(pool),
    sipMessages: new PostgresSipMessageStore(pool),
    topics: new PostgresTopicStore(pool),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
