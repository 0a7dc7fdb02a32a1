import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AiConfig, resolveAiConfig } from "./ai-config.js";
import { type BlobConfig, resolveBlobConfig } from "./blob-config.js";
import { ConfigError } from "./config-error.js";
import { type HeartbeatConfig, resolveHeartbeatConfig } from "./heartbeat-config.js";
import { type MetricsConfig, resolveMetricsConfig } from "./metrics-config.js";
import { type OtlpConfig, resolveOtlpConfig } from "./otlp-config.js";
import { type RetentionConfig, resolveRetentionConfig } from "./retention-config.js";
import { resolveWebhooksOutConfig, type WebhooksOutConfig } from "./webhooks-out-config.js";

/**
 * Where `npm run build` puts the console: `dist/console` of this package, found from this module
 * (src/config/ when run from source, dist/config/ when built; both are two levels under the root).
 */
const DEFAULT_CONSOLE_DIR = path.resolve(fileURLToPath(new URL("../../dist/console", import.meta.url)));

/** Everything the server and the commands are configured by. */
export interface Config {
  host: string;
  port: number;
  /** Where SQLite and the blobs live. */
  dataDir: string;
  /** A postgres:// URL selects PostgreSQL; unset means SQLite. */
  databaseUrl: string | undefined;
  /** The SQLite file a `sqlite:` URL names; unset means `openconvai.sqlite` in the data dir. */
  sqliteFile: string | undefined;
  /**
   * OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS: how long one PostgreSQL statement may run before the
   * server cancels it (default 30000; 0: no timeout). Migrations, import batches and the
   * background jobs' long scans are exempt. SQLite has none.
   */
  databaseStatementTimeoutMs: number;
  /** A key made sure to exist at start (for containers and tests). */
  bootstrapKey: string | undefined;
  limits: { jsonBytes: number; audioBytes: number; fileBytes: number };
  /** How long a client may take to send a whole request (headers and body), in seconds. */
  requestTimeoutSecs: number;
  logLevel: string;
  /** How log lines are written: `pretty` (readable), `json` (one object a line), `auto` (pretty on a terminal). */
  logFormat: LogFormat;
  /** The webhook receiver: HMAC secrets (several during a rotation) and the timestamp tolerance. */
  webhooks: { secrets: string[]; toleranceSecs: number };
  /** OpenAI-compatible providers: embeddings for semantic search, a chat model for analysis. */
  ai: AiConfig;
  /** OPENCONVAI_PUBLIC_URL: the origin clients reach the server at (signed URLs point there); unset, read from each request. */
  publicUrl: string | undefined;
  /** Live conversations on the agent WebSocket. */
  live: LiveConfig;
  /** Outgoing post-call webhooks: retries, timeouts, which addresses may be called, relay mode. */
  webhooksOut: WebhooksOutConfig;
  /** Retention: OPENCONVAI_RETENTION_DAYS (the server's default; unset keeps forever), OPENCONVAI_RETENTION_INTERVAL_SECS. */
  retention: RetentionConfig;
  /** Finished conversations' traces pushed to an OpenTelemetry collector; undefined without OPENCONVAI_OTLP_ENDPOINT. */
  otlp: OtlpConfig | undefined;
  /** Prometheus metrics: OPENCONVAI_METRICS_TOKEN, OPENCONVAI_METRICS_PORT, OPENCONVAI_METRICS_HOST. */
  metrics: MetricsConfig;
  /** OPENCONVAI_CONSOLE_DIR: the built console (default the package's `dist/console`), served at `/`. */
  consoleDir: string;
  /** OPENCONVAI_BLOB_URL: the blobs in the data dir's `blobs/` (unset), or in an S3 bucket (`s3://bucket/prefix`). */
  blobs: BlobConfig;
}

/** Live conversations: who this node is and how much it takes on. */
export interface LiveConfig {
  /**
   * OPENCONVAI_NODE_ID: this node's name among the nodes on one database (default: the host
   * name). Live sessions are registered under it; after a restart a node recovers its own.
   */
  nodeId: string;
  /** OPENCONVAI_MAX_SESSIONS: concurrent live sessions this node serves (default 1000). */
  maxSessions: number;
  /** OPENCONVAI_MAX_SESSION_MESSAGES_PER_MINUTE: frames one session may send a minute, pongs and audio aside (default 120). */
  messagesPerMinute: number;
  /**
   * OPENCONVAI_SHUTDOWN_GRACE_SECS: after SIGTERM, how long live sessions may go on before they are
   * ended with 1001 (default 10: the whole stop takes the grace plus up to ~15 s, so it fits
   * Kubernetes' default 30 s terminationGracePeriodSeconds).
   */
  shutdownGraceSecs: number;
  /** How this node shows its live sessions still run, and when any node recovers one whose heartbeat stopped. */
  heartbeat: HeartbeatConfig;
}

/** The flags every command shares, as commander hands them over. */
export interface ConfigFlags {
  host?: string;
  port?: string;
  data?: string;
  databaseUrl?: string;
}

/** How log lines are written; `auto` is pretty when the output is a terminal, JSON otherwise. */
export type LogFormat = "auto" | "json" | "pretty";

const MIB = 1024 * 1024;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const LOG_FORMATS: LogFormat[] = ["auto", "json", "pretty"];
const DATABASE_URL_SETTING = "--database-url / DATABASE_URL";
/** The PostgreSQL statement timeout unless OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS says otherwise. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** The shortest statement timeout taken (below it even a key check could be cancelled), and the longest: a day. */
const STATEMENT_TIMEOUT_RANGE = { min: 100, max: 86_400_000 };

/** The query parameters pg reads a password from (compared in lower case). */
const PASSWORD_PARAMETERS = new Set(["password", "sslpassword"]);

/** The name of a `key=value` query pair, decoded as a form would be. */
function decodeParameterName(pair: string): string {
  const key = pair.split("=", 1)[0] ?? "";
  try {
    return decodeURIComponent(key.replace(/\+/g, " "));
  } catch {
    return key;
  }
}

/**
 * A database URL fit to print: its password and its password query parameters (`password`,
 * `sslpassword`, any case) shown as `***`, its fragment dropped. Undefined when it does not parse
 * as a URL: then where a password starts and ends is unknown, so nothing of it may be printed.
 */
export function maskDatabaseUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  // The URL parser takes the last `@` as the end of the credentials, as pg does, so an unencoded
  // `@` in a password is inside what is masked here.
  if (parsed.password !== "") parsed.password = "***";
  parsed.hash = "";
  if (parsed.search !== "") {
    parsed.search = parsed.search
      .slice(1)
      .split("&")
      .map((pair) =>
        PASSWORD_PARAMETERS.has(decodeParameterName(pair).toLowerCase())
          ? `${pair.split("=", 1)[0]}=***`
          : pair,
      )
      .join("&");
  }
  return parsed.href;
}

/**
 * The file a `sqlite:` URL names: `sqlite:///abs/path` or `sqlite:/abs/path` (absolute),
 * `sqlite:relative/path` (from the working directory). The rest of the URL is the path as written.
 */
function parseSqliteUrl(url: string): string {
  const rest = url.slice("sqlite:".length);
  const usage = "use sqlite:///absolute/path/openconvai.sqlite or sqlite:relative/path/openconvai.sqlite";
  let file: string;
  if (rest.startsWith("//")) {
    // sqlite://host/… names a host, which SQLite has no use for; sqlite:///abs has an empty one.
    if (!rest.startsWith("///")) {
      throw new ConfigError(
        `${DATABASE_URL_SETTING} "${url}" names a host, but SQLite is a local file: ${usage}.`,
      );
    }
    file = rest.slice(2);
  } else {
    file = rest;
  }
  if (file === "" || file === "/" || file === ":memory:" || file.endsWith("/")) {
    throw new ConfigError(`${DATABASE_URL_SETTING} "${url}" names no database file: ${usage}.`);
  }
  return path.resolve(file);
}

/** A URL that was refused, quoted and masked for a message, or a description when it is not a URL at all. */
function describeRejectedUrl(url: string): string {
  const shown = maskDatabaseUrl(url);
  return shown === undefined ? "a value that is not a URL (not shown: it may hold a password)" : `"${shown}"`;
}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

/** OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS: 0 (no timeout), or milliseconds within STATEMENT_TIMEOUT_RANGE. */
function parseStatementTimeout(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_STATEMENT_TIMEOUT_MS;
  const value = Number(raw);
  const { min, max } = STATEMENT_TIMEOUT_RANGE;
  if (!/^\d+$/.test(raw.trim()) || (value !== 0 && (value < min || value > max))) {
    throw new ConfigError(
      `OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS must be 0 (no timeout) or a whole number of milliseconds from ${min} to ${max}, got "${raw.slice(0, 40)}": set it to how long one PostgreSQL query may run (default ${DEFAULT_STATEMENT_TIMEOUT_MS}), or unset it.`,
    );
  }
  return value;
}

/** A node id: 1 to 128 letters, digits, dots, dashes or underscores. */
function parseNodeId(raw: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(raw)) {
    throw new ConfigError(
      `OPENCONVAI_NODE_ID must be 1 to 128 letters, digits, dots, dashes or underscores, got "${raw.slice(0, 140)}": name each node of a deployment differently.`,
    );
  }
  return raw;
}

/** OPENCONVAI_PUBLIC_URL as an origin (`https://host[:port]`): an http(s) URL with no path, query or credentials. */
function parsePublicUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const usage =
    "set it to the URL clients reach this server at, such as https://convai.example.com or http://10.0.0.5:8787";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`OPENCONVAI_PUBLIC_URL must be an http(s) URL (the value is not a URL): ${usage}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `OPENCONVAI_PUBLIC_URL must start with http:// or https://, got "${url.protocol}": ${usage}.`,
    );
  }
  if (
    url.username !== "" ||
    url.password !== "" ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    throw new ConfigError(
      `OPENCONVAI_PUBLIC_URL must be an origin only (no path, query or credentials), got "${maskDatabaseUrl(raw) ?? "a value that is not a URL"}": ${usage}.`,
    );
  }
  return url.origin;
}

/** Resolves the configuration: flags, then environment variables, then defaults. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | undefined, envName: string): string | undefined => {
    const value = flag ?? env[envName];
    return value === undefined || value === "" ? undefined : value;
  };
  const databaseUrl = pick(flags.databaseUrl, "DATABASE_URL");
  if (
    databaseUrl !== undefined &&
    !/^postgres(ql)?:\/\//.test(databaseUrl) &&
    !databaseUrl.startsWith("sqlite:")
  ) {
    throw new ConfigError(
      `${DATABASE_URL_SETTING} must be a postgres:// URL or a sqlite: file URL (or unset for SQLite in the data dir), got ${describeRejectedUrl(databaseUrl)}.`,
    );
  }
  const sqliteFile = databaseUrl?.startsWith("sqlite:") ? parseSqliteUrl(databaseUrl) : undefined;
  const logLevel = pick(undefined, "OPENCONVAI_LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`OPENCONVAI_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}".`);
  }
  const logFormat = pick(undefined, "OPENCONVAI_LOG_FORMAT") ?? "auto";
  if (!LOG_FORMATS.includes(logFormat as LogFormat)) {
    throw new ConfigError(
      `OPENCONVAI_LOG_FORMAT must be one of ${LOG_FORMATS.join(", ")}, got "${logFormat}".`,
    );
  }
  return {
    host: pick(flags.host, "OPENCONVAI_HOST") ?? "127.0.0.1",
    port: parseInteger("--port / OPENCONVAI_PORT", pick(flags.port, "OPENCONVAI_PORT") ?? "8787", 0, 65535),
    dataDir: path.resolve(pick(flags.data, "OPENCONVAI_DATA") ?? "./data"),
    databaseUrl: sqliteFile === undefined ? databaseUrl : undefined,
    sqliteFile,
    databaseStatementTimeoutMs: parseStatementTimeout(
      pick(undefined, "OPENCONVAI_DATABASE_STATEMENT_TIMEOUT_MS"),
    ),
    bootstrapKey: pick(undefined, "OPENCONVAI_BOOTSTRAP_KEY"),
    limits: {
      jsonBytes: parseInteger(
        "OPENCONVAI_MAX_JSON_BYTES",
        pick(undefined, "OPENCONVAI_MAX_JSON_BYTES") ?? String(16 * MIB),
        1024,
        1024 * MIB,
      ),
      audioBytes: parseInteger(
        "OPENCONVAI_MAX_AUDIO_BYTES",
        pick(undefined, "OPENCONVAI_MAX_AUDIO_BYTES") ?? String(512 * MIB),
        1024,
        16 * 1024 * MIB,
      ),
      fileBytes: parseInteger(
        "OPENCONVAI_MAX_FILE_BYTES",
        pick(undefined, "OPENCONVAI_MAX_FILE_BYTES") ?? String(20 * MIB),
        1,
        1024 * MIB,
      ),
    },
    requestTimeoutSecs: parseInteger(
      "OPENCONVAI_REQUEST_TIMEOUT_SECS",
      pick(undefined, "OPENCONVAI_REQUEST_TIMEOUT_SECS") ?? "120",
      1,
      24 * 3600,
    ),
    logLevel,
    logFormat: logFormat as LogFormat,
    webhooks: {
      secrets: (pick(undefined, "OPENCONVAI_WEBHOOK_SECRETS") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
      toleranceSecs: parseInteger(
        "OPENCONVAI_WEBHOOK_TOLERANCE_SECS",
        pick(undefined, "OPENCONVAI_WEBHOOK_TOLERANCE_SECS") ?? "1800",
        1,
        7 * 24 * 3600,
      ),
    },
    ai: resolveAiConfig(env),
    webhooksOut: resolveWebhooksOutConfig(env),
    retention: resolveRetentionConfig(env),
    otlp: resolveOtlpConfig(env),
    blobs: resolveBlobConfig(env),
    metrics: resolveMetricsConfig(env),
    publicUrl: parsePublicUrl(pick(undefined, "OPENCONVAI_PUBLIC_URL")),
    consoleDir: path.resolve(pick(undefined, "OPENCONVAI_CONSOLE_DIR") ?? DEFAULT_CONSOLE_DIR),
    live: {
      nodeId: parseNodeId(pick(undefined, "OPENCONVAI_NODE_ID") ?? hostname()),
      maxSessions: parseInteger(
        "OPENCONVAI_MAX_SESSIONS",
        pick(undefined, "OPENCONVAI_MAX_SESSIONS") ?? "1000",
        1,
        1_000_000,
      ),
      messagesPerMinute: parseInteger(
        "OPENCONVAI_MAX_SESSION_MESSAGES_PER_MINUTE",
        pick(undefined, "OPENCONVAI_MAX_SESSION_MESSAGES_PER_MINUTE") ?? "120",
        1,
        1_000_000,
      ),
      shutdownGraceSecs: parseInteger(
        "OPENCONVAI_SHUTDOWN_GRACE_SECS",
        pick(undefined, "OPENCONVAI_SHUTDOWN_GRACE_SECS") ?? "10",
        0,
        3600,
      ),
      heartbeat: resolveHeartbeatConfig(env),
    },
  };
}
