import { ConfigError } from "./config-error.js";
import { readInteger } from "./env-values.js";

/** Pushing finished conversations' traces to an OpenTelemetry collector (OTLP/HTTP, protobuf). */
export interface OtlpConfig {
  /**
   * OPENCONVAI_OTLP_ENDPOINT: the collector's base URL (e.g. `http://collector:4318`); `/v1/traces`
   * is appended unless the URL already ends with it. This is the URL the traces are posted to.
   */
  tracesUrl: string;
  /** OPENCONVAI_OTLP_HEADERS: `k=v,k2=v2` (values percent-decoded), sent with every push; never logged. */
  headers: Record<string, string>;
  /** OPENCONVAI_OTLP_TIMEOUT_SECS: how long one push request may take, the exporter's retries included (default 10). */
  timeoutMs: number;
  /** OPENCONVAI_OTLP_BATCH_SIZE: conversations per push request (default 50). */
  batchSize: number;
  /** OPENCONVAI_OTLP_INTERVAL_MS: how often the queue is looked at (default 5000). */
  intervalMs: number;
  /** OPENCONVAI_OTLP_RETRY_MS: the wait after a first failed push; it doubles with each failure (default 30000). */
  firstRetryMs: number;
  /** OPENCONVAI_OTLP_MAX_RETRY_MS: the longest wait between attempts (default 3600000, an hour). */
  maxRetryMs: number;
}

const TRACES_PATH = "/v1/traces";
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The URL traces are posted to: the base with `/v1/traces` appended unless it already ends with it. */
function parseEndpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(
      'OPENCONVAI_OTLP_ENDPOINT must be an http(s) URL such as "http://collector:4318" (not shown: it may hold a secret).',
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `OPENCONVAI_OTLP_ENDPOINT must be an http(s) URL such as "http://collector:4318", got the scheme "${url.protocol}".`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(
      "OPENCONVAI_OTLP_ENDPOINT must not include a user name or password: remove them from the URL and send " +
        'credentials as a header in OPENCONVAI_OTLP_HEADERS (e.g. "authorization=Basic …").',
    );
  }
  if (url.hash !== "") {
    throw new ConfigError("OPENCONVAI_OTLP_ENDPOINT must not have a fragment (#…): remove it.");
  }
  const base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  const path = base.endsWith(TRACES_PATH) ? base : `${base}${TRACES_PATH}`;
  return `${path}${url.search}`;
}

/**
 * Parses `k=v,k2=v2` as OTEL_EXPORTER_OTLP_HEADERS is written: entries separated by commas, each a
 * header name, `=`, and a value that is percent-decoded; blanks around them are dropped. Messages
 * name an entry by its position, never its value (it is usually a secret).
 */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined || raw.trim() === "") return headers;
  raw.split(",").forEach((entry, index) => {
    if (entry.trim() === "") return;
    const at = entry.indexOf("=");
    const name = (at < 0 ? entry : entry.slice(0, at)).trim();
    const where = `OPENCONVAI_OTLP_HEADERS entry ${index + 1}`;
    if (at < 0 || !HEADER_NAME.test(name)) {
      throw new ConfigError(
        `${where} is not "name=value" with a valid header name: write the setting as "k=v,k2=v2" (values may be percent-encoded).`,
      );
    }
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      throw new ConfigError(`${where} (${name}) has a malformed percent-encoding: encode "%" as "%25".`);
    }
    if (/[\r\n\0]/.test(value)) {
      throw new ConfigError(`${where} (${name}) holds a line break or NUL, which no header may carry.`);
    }
    headers[name.toLowerCase()] = value;
  });
  return headers;
}

/** Reads the trace push settings; undefined when OPENCONVAI_OTLP_ENDPOINT is unset (pushing is off). */
export function resolveOtlpConfig(env: Record<string, string | undefined>): OtlpConfig | undefined {
  const endpoint = env.OPENCONVAI_OTLP_ENDPOINT;
  if (endpoint === undefined || endpoint.trim() === "") {
    if (env.OPENCONVAI_OTLP_HEADERS) {
      throw new ConfigError(
        "OPENCONVAI_OTLP_HEADERS is set but OPENCONVAI_OTLP_ENDPOINT is not: set the collector's URL too, or unset the headers.",
      );
    }
    return undefined;
  }
  const firstRetryMs = readInteger(
    "OPENCONVAI_OTLP_RETRY_MS",
    env.OPENCONVAI_OTLP_RETRY_MS,
    30_000,
    10,
    86_400_000,
  );
  const maxRetryMs = readInteger(
    "OPENCONVAI_OTLP_MAX_RETRY_MS",
    env.OPENCONVAI_OTLP_MAX_RETRY_MS,
    Math.max(3_600_000, firstRetryMs),
    10,
    7 * 86_400_000,
  );
  if (maxRetryMs < firstRetryMs) {
    throw new ConfigError(
      `OPENCONVAI_OTLP_MAX_RETRY_MS (${maxRetryMs}) must not be below OPENCONVAI_OTLP_RETRY_MS (${firstRetryMs}).`,
    );
  }
  return {
    tracesUrl: parseEndpoint(endpoint),
    headers: parseOtlpHeaders(env.OPENCONVAI_OTLP_HEADERS),
    timeoutMs:
      1000 * readInteger("OPENCONVAI_OTLP_TIMEOUT_SECS", env.OPENCONVAI_OTLP_TIMEOUT_SECS, 10, 1, 300),
    batchSize: readInteger("OPENCONVAI_OTLP_BATCH_SIZE", env.OPENCONVAI_OTLP_BATCH_SIZE, 50, 1, 1000),
    intervalMs: readInteger(
      "OPENCONVAI_OTLP_INTERVAL_MS",
      env.OPENCONVAI_OTLP_INTERVAL_MS,
      5000,
      10,
      3_600_000,
    ),
    firstRetryMs,
    maxRetryMs,
  };
}
