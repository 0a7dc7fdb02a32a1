import pg from "pg";
import type { DatabaseObserver } from "../database-observer.js";
import { type Database, SchemaTooNewError } from "../store.js";
import { postgresMigrations } from "./migrations.js";
import { NO_STATEMENT_TIMEOUT_SQL } from "./pg-transaction.js";
import { PostgresAgentStore } from "./postgres-agent-store.js";
import { PostgresAnalysisSettingsStore } from "./postgres-analysis-settings-store.js";
import { PostgresConversationSignatureStore } from "./postgres-conversation-signature-store.js";
import { PostgresConversationStatsStore } from "./postgres-conversation-stats-store.js";
import { PostgresConversationStore } from "./postgres-conversation-store.js";
import { PostgresConversationFileStore } from "./postgres-file-store.js";
import { PostgresJobLocks } from "./postgres-job-locks.js";
import { PostgresKeyStore } from "./postgres-key-store.js";
import { PostgresLiveSessionStore } from "./postgres-live-session-store.js";
import { PostgresMessageSearchStore } from "./postgres-message-search-store.js";
import { PostgresOutgoingWebhookStore } from "./postgres-outgoing-webhook-store.js";
import { PostgresRetentionStore } from "./postgres-retention-store.js";
import { PostgresSipMessageStore } from "./postgres-sip-message-store.js";
import { PostgresSyncStateStore } from "./postgres-sync-state-store.js";
import { PostgresTagStore } from "./postgres-tag-store.js";
import { PostgresTopicStore } from "./postgres-topic-store.js";
import { PostgresTracePushStore } from "./postgres-trace-push-store.js";
import { PostgresWebhookStore } from "./postgres-webhook-store.js";
import { timedClientClass } from "./timed-client.js";

/** Connections per process unless told otherwise: enough for concurrent requests, polite to a shared server. */
export const DEFAULT_POOL_SIZE = 10;

/**
 * How long one statement on a pooled connection may run unless told otherwise: a request's query
 * (a list search of many words at a million conversations) is cancelled by the server then, and
 * its connection comes back. Long work exempts itself (`withoutStatementTimeout`).
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** Every openconvai node takes this transaction-level advisory lock to migrate, so nodes starting together take turns. */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('openconvai.migrations', 0))";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options for {@link openPostgresDatabase}. */
export interface PostgresOptions {
  /** A schema to use (created if missing) instead of the first one on the URL's search_path. */
  schema?: string;
  /** The pool's maximum number of connections. */
  maxConnections?: number;
  /**
   * How long one statement may run before PostgreSQL cancels it (SQLSTATE 57014), in ms; 0 sets
   * none (the server's own `statement_timeout` applies). Default DEFAULT_STATEMENT_TIMEOUT_MS.
   * Migrations, import batches and the background jobs' long scans run without it.
   */
  statementTimeoutMs?: number;
  /** Told of every query's time and of the pool (the server's metrics). */
  observer?: DatabaseObserver;
}

/** Splits a `SHOW search_path` value into schema names, unquoted. */
function parseSearchPath(value: string): string[] {
  const names: string[] = [];
  for (const match of value.matchAll(/"((?:[^"]|"")*)"|([^,\s][^,]*)/g)) {
    names.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] ?? "").trim());
  }
  return names;
}

/** How long the first connection may take before the server is reported unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/** How long `ping` waits for the answer to `SELECT 1`, once it has a connection. */
const PING_TIMEOUT_MS = 2_000;

/** How long `ping` waits for a free pooled connection (the pool itself waits as long as it takes). */
const PING_CONNECTION_WAIT_MS = 10_000;

/**
 * With every pooled connection in use, a connection handed back healthy this recently proves the
 * database answers, and `ping` does not queue behind the load.
 */
const PING_RECENT_SUCCESS_MS = 5_000;

/** Rejects with `message` after `ms`, unless `work` settles first (it then settles unobserved). */
async function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The database's `ping`: `SELECT 1` on a pooled connection, the query alone timed against
 * PING_TIMEOUT_MS. When the pool is saturated (every connection in use, up to its max), a
 * connection handed back without error within PING_RECENT_SUCCESS_MS answers instead, so a node
 * busy with work is not reported unready for queueing; otherwise the wait for a connection is
 * bounded by PING_CONNECTION_WAIT_MS.
 */
function poolPinger(pool: pg.Pool): () => Promise<void> {
  let lastHealthyAt = Number.NEGATIVE_INFINITY;
  // pg-pool hands the error a client was released with (a failed query, a broken connection).
  pool.on("release", (error: Error | undefined) => {
    if (!error) lastHealthyAt = performance.now();
  });
  return async () => {
    const saturated = pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? DEFAULT_POOL_SIZE);
    if (saturated && performance.now() - lastHealthyAt <= PING_RECENT_SUCCESS_MS) return;
    let gaveUp = false;
    const connecting = pool.connect();
    // A connection that arrives after the wait gave up goes straight back to the pool.
    connecting.then(
      (client) => {
        if (gaveUp) client.release();
      },
      () => undefined,
    );
    let client: pg.PoolClient;
    try {
      client = await within(
        connecting,
        PING_CONNECTION_WAIT_MS,
        `no pooled PostgreSQL connection came free within ${PING_CONNECTION_WAIT_MS} ms`,
      );
    } catch (error) {
      gaveUp = true;
      throw error;
    }
    let failed: Error | undefined;
    try {
      await within(
        client.query("SELECT 1"),
        PING_TIMEOUT_MS,
        `PostgreSQL did not answer within ${PING_TIMEOUT_MS} ms`,
      );
    } catch (error) {
      failed = error as Error;
      throw error;
    } finally {
      // A connection whose query failed or hangs is discarded, not handed to the next caller.
      client.release(failed);
    }
  };
}

/** The parts of a postgres:// URL a message names (never the password). */
function describeTarget(url: string): { host: string; port: string; user: string; database: string } {
  try {
    const u = new URL(url);
    // The defaults libpq and pg use: a missing database is the user's name.
    const user = decodeURIComponent(u.username) || process.env.PGUSER || "postgres";
    return {
      host: decodeURIComponent(u.hostname) || "localhost",
      port: u.port || "5432",
      user,
      database: decodeURIComponent(u.pathname.slice(1)) || user,
    };
  } catch {
    // Forms pg accepts and URL does not (`postgres://user@/db?host=/run/postgresql`): the parts
    // that can be read, the defaults for the rest.
    const user = /^[a-z]+:\/\/([^:@/]+)(?::[^@/]*)?@/i.exec(url)?.[1] ?? process.env.PGUSER ?? "postgres";
    const host = /[?&]host=([^&]+)/.exec(url)?.[1];
    return {
      host: host ? decodeURIComponent(host) : "localhost",
      port: "5432",
      user,
      database: /^[a-z]+:\/\/[^/]*\/([^/?]+)/i.exec(url)?.[1] ?? user,
    };
  }
}

/** Quotes a value for a POSIX shell command line. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * Says in one sentence, with the next step, why PostgreSQL at `url` could not be used, or returns
 * undefined for an error that is not about the server or the URL (a bug, shown with its stack).
 */
export function describePostgresOpenError(error: unknown, url: string): string | undefined {
  const { host, port, user, database } = describeTarget(url);
  const at = `PostgreSQL at ${host}:${port}`;
  const psql = `psql -h ${shellQuote(host)} -p ${port} -U ${shellQuote(user)}`;
  const code = (error as { code?: unknown }).code;
  const message = (error as Error).message ?? String(error);
  switch (code) {
    case "ERR_INVALID_URL":
      return (
        "--database-url / DATABASE_URL is not a valid URL: write it as postgres://user:password@host:5432/database " +
        "(percent-encode special characters in the user or password, e.g. @ as %40)."
      );
    case "3D000":
      return (
        `the database "${database}" does not exist on ${at}: create it with ` +
        `\`createdb -h ${shellQuote(host)} -p ${port} -U ${shellQuote(user)} ${shellQuote(database)}\`, or fix the name in --database-url.`
      );
    case "28P01":
      return `${at} refused the password for user "${user}": fix the user or password in --database-url (check with \`${psql} -d ${shellQuote(database)}\`).`;
    case "28000":
      return `${at} does not let user "${user}" in (${message}): fix the user in --database-url, or allow it in pg_hba.conf.`;
    case "42501":
      return `user "${user}" lacks a privilege openconvai needs on ${at} (${message}): grant it CREATE on the database (or use its owner), then start again.`;
    case "53300":
      return `${at} has no free connections (${message}): raise max_connections or stop idle clients, then start again.`;
    case "57P03":
      return `${at} is starting up or shutting down: wait until \`pg_isready -h ${shellQuote(host)} -p ${port}\` says it accepts connections, then start again.`;
    case "ECONNREFUSED":
      return `nothing is listening at ${host}:${port} (connection refused): start PostgreSQL or fix the host and port in --database-url; check with \`pg_isready -h ${shellQuote(host)} -p ${port}\`.`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host "${host}" in --database-url was not found (${code}): fix the host name, or check DNS.`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${host}:${port} cannot be reached (${code}): check the host and port in --database-url and that a firewall lets you through; check with \`pg_isready -h ${shellQuote(host)} -p ${port}\`.`;
    case "ECONNRESET":
      return `${at} closed the connection (${code}): check the port is PostgreSQL's and the server's log; check with \`pg_isready -h ${shellQuote(host)} -p ${port}\`.`;
  }
  if (/timeout/i.test(message) && /connect/i.test(message)) {
    return `${at} did not answer within ${CONNECT_TIMEOUT_MS / 1000} seconds: check the host and port in --database-url and that a firewall lets you through; check with \`pg_isready -h ${shellQuote(host)} -p ${port}\`.`;
  }
  if (/^Connection terminated/.test(message)) {
    return `${at} closed the connection before openconvai could log in (${message}): check that the host and port in --database-url are PostgreSQL's; check with \`pg_isready -h ${shellQuote(host)} -p ${port}\`.`;
  }
  if (/SSL|certificate/i.test(message)) {
    return `the TLS connection to ${at} failed (${message}): set sslmode in --database-url to what the server supports (e.g. ?sslmode=disable on a local server, ?sslmode=require otherwise).`;
  }
  if (message.startsWith("openconvai needs")) return message;
  // Any other error the server sent (a SQLSTATE): it is about this server, so said in one line.
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code))
    return `${at} answered: ${message} (SQLSTATE ${code}).`;
  return undefined;
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
    // No statement timeout: an index built on a big table takes minutes, and a node waits for
    // the lock while another migrates.
    await client.query(NO_STATEMENT_TIMEOUT_SQL);
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
      for (const migration of postgresMigrations.slice(current)) {
        if (typeof migration === "string") await client.query(migration);
        else await migration(client);
      }
      await client.query(`DELETE FROM ${table}`);
      await client.query(`INSERT INTO ${table} (version) VALUES ($1)`, [postgresMigrations.length]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Connects once, on a client of its own with a timeout, so an unreachable host or a refused login
 * fails the start rather than hanging it (the pool waits as long as it takes, as it should when
 * every connection is busy).
 */
async function checkReachable(connectionString: string): Promise<void> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    fallback_application_name: "openconvai",
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The configuration of the pool `openPostgresDatabase` opens, with the URL it connects to (the
 * schema's search_path added).
 */
export function postgresPoolConfig(
  url: string,
  options: PostgresOptions = {},
): pg.PoolConfig & { connectionString: string } {
  const connectionString = options.schema ? withSchema(url, options.schema) : url;
  // Per pool, not global: BIGINT columns (seq, counts, sizes, times) come back as numbers. They stay
  // far below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 0) {
    throw new Error(
      `The statement timeout must be a whole number of ms, 0 or more, got ${statementTimeoutMs}.`,
    );
  }
  return {
    connectionString,
    max: options.maxConnections ?? DEFAULT_POOL_SIZE,
    // Sent as each connection starts (pg leaves 0 out, and the server's own setting applies):
    // `SHOW statement_timeout` on a pooled connection says it.
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    fallback_application_name: "openconvai",
    types,
    ...(options.observer ? { Client: timedClientClass(options.observer) } : {}),
  };
}

/** Opens a PostgreSQL database at a postgres:// URL, migrated and ready. */
export async function openPostgresDatabase(url: string, options: PostgresOptions = {}): Promise<Database> {
  const config = postgresPoolConfig(url, options);
  const { connectionString } = config;
  const pool = new pg.Pool(config);
  // An idle connection that breaks (a server restart) is dropped by the pool; the next query reconnects.
  pool.on("error", () => undefined);
  const ping = poolPinger(pool);

  try {
    await checkReachable(connectionString);
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  options.observer?.poolOpened({
    get total() {
      return pool.totalCount;
    },
    get idle() {
      return pool.idleCount;
    },
    get waiting() {
      return pool.waitingCount;
    },
    max: pool.options.max,
  });

  let closed = false;
  return {
    kind: "postgres",
    conversations: new PostgresConversationStore(pool),
    keys: new PostgresKeyStore(pool),
    messageSearch: new PostgresMessageSearchStore(pool),
    analysisSettings: new PostgresAnalysisSettingsStore(pool),
    agents: new PostgresAgentStore(pool),
    conversationSignatures: new PostgresConversationSignatureStore(pool),
    liveSessions: new PostgresLiveSessionStore(pool),
    outgoingWebhooks: new PostgresOutgoingWebhookStore(pool),
    webhooks: new PostgresWebhookStore(pool),
    syncState: new PostgresSyncStateStore(pool),
    tags: new PostgresTagStore(pool),
    conversationFiles: new PostgresConversationFileStore(pool),
    sipMessages: new PostgresSipMessageStore(pool),
    topics: new PostgresTopicStore(pool),
    conversationStats: new PostgresConversationStatsStore(pool),
    jobLocks: new PostgresJobLocks(pool),
    retention: new PostgresRetentionStore(pool),
    tracePushes: new PostgresTracePushStore(pool),
    ping: async () => {
      if (closed) throw new Error("the PostgreSQL pool is closed");
      await ping();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
