import { ConfigError } from "./config-error.js";
import { readInteger } from "./env-values.js";

/** Outgoing webhooks (post-call webhooks this server sends). */
export interface WebhooksOutConfig {
  /** OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: endpoints on private, loopback and link-local addresses are allowed (default false). */
  allowPrivate: boolean;
  /**
   * OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: one entry per attempt: 0 for the first (made at once), then
   * the wait after each failure before the next; default `0,30s,2m,8m,30m,2h,8h,24h` (eight attempts).
   */
  retryScheduleMs: number[];
  /** OPENCONVAI_WEBHOOK_RETRY_JITTER: each retry's delay is moved by up to this share of it, either way (default 0.1). */
  jitter: number;
  /** OPENCONVAI_WEBHOOK_TIMEOUT_SECS: how long one attempt may take, answer included (default 15). */
  timeoutMs: number;
  /** OPENCONVAI_WEBHOOK_CONCURRENCY: attempts in flight at once to one webhook, per node (default 4). */
  concurrencyPerEndpoint: number;
  /** OPENCONVAI_WEBHOOK_RELAY: conversations that arrive by ingest, import, sync or the receiver are sent too (default false). */
  relay: boolean;
  /** OPENCONVAI_WEBHOOK_POLL_MS: how often a node looks for due deliveries (default 1000; a local write wakes it at once). */
  pollMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DEFAULT_SCHEDULE = "0,30s,2m,8m,30m,2h,8h,24h";

/** `30s`, `2m`, `250ms`, `0`: a duration in milliseconds; undefined when it is not one. */
function parseDuration(raw: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] ?? "s"] ?? 1000);
}

function parseSchedule(raw: string): number[] {
  const usage = `a comma-separated list of delays such as "${DEFAULT_SCHEDULE}" (units ms, s, m, h, d; at most 50 attempts, none over 7d)`;
  const parts = raw.split(",");
  const delays = parts.map(parseDuration);
  if (parts.length === 0 || parts.length > 50 || delays.some((d) => d === undefined || d > 7 * 86_400_000)) {
    throw new ConfigError(`OPENCONVAI_WEBHOOK_RETRY_SCHEDULE must be ${usage}, got "${raw.slice(0, 200)}".`);
  }
  if (delays[0] !== 0) {
    throw new ConfigError(
      `OPENCONVAI_WEBHOOK_RETRY_SCHEDULE must start with 0: the first attempt is made at once, and the entries after it are the waits before each retry (got "${raw.slice(0, 200)}").`,
    );
  }
  return delays as number[];
}

function parseBoolean(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === "") return false;
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw.slice(0, 40)}".`);
}

function parseNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw.slice(0, 40)}".`);
  }
  return value;
}

/** Reads the outgoing-webhook settings from the environment. */
export function resolveWebhooksOutConfig(env: Record<string, string | undefined>): WebhooksOutConfig {
  return {
    allowPrivate: parseBoolean("OPENCONVAI_WEBHOOK_ALLOW_PRIVATE", env.OPENCONVAI_WEBHOOK_ALLOW_PRIVATE),
    retryScheduleMs: parseSchedule(env.OPENCONVAI_WEBHOOK_RETRY_SCHEDULE || DEFAULT_SCHEDULE),
    jitter: parseNumber("OPENCONVAI_WEBHOOK_RETRY_JITTER", env.OPENCONVAI_WEBHOOK_RETRY_JITTER, 0.1, 0, 1),
    timeoutMs:
      1000 *
      parseNumber("OPENCONVAI_WEBHOOK_TIMEOUT_SECS", env.OPENCONVAI_WEBHOOK_TIMEOUT_SECS, 15, 0.1, 600),
    concurrencyPerEndpoint: readInteger(
      "OPENCONVAI_WEBHOOK_CONCURRENCY",
      env.OPENCONVAI_WEBHOOK_CONCURRENCY,
      4,
      1,
      256,
    ),
    relay: parseBoolean("OPENCONVAI_WEBHOOK_RELAY", env.OPENCONVAI_WEBHOOK_RELAY),
    pollMs: readInteger("OPENCONVAI_WEBHOOK_POLL_MS", env.OPENCONVAI_WEBHOOK_POLL_MS, 1000, 10, 60_000),
  };
}
