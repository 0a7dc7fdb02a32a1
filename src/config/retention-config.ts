import { ConfigError } from "./config-error.js";

/** Retention: how long conversations are kept, and how often the retention job looks. */
export interface RetentionConfig {
  /**
   * OPENCONVAI_RETENTION_DAYS: conversations are deleted this many days after they started, unless
   * their agent's `platform_settings.privacy.retention_days` says otherwise; unset (or -1) keeps
   * them forever (the default). Fractions are allowed (0.5 is twelve hours).
   */
  retentionDays: number | null;
  /** OPENCONVAI_RETENTION_INTERVAL_SECS: how long the job waits between rounds (default 300). */
  intervalMs: number;
}

const MAX_DAYS = 100 * 365;

/** Reads the retention settings from the environment. */
export function resolveRetentionConfig(env: Record<string, string | undefined>): RetentionConfig {
  return {
    retentionDays: parseRetentionDays(env.OPENCONVAI_RETENTION_DAYS),
    intervalMs: 1000 * parseIntervalSecs(env.OPENCONVAI_RETENTION_INTERVAL_SECS),
  };
}

function parseRetentionDays(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === "") return null;
  const value = Number(raw);
  if (value === -1) return null;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_DAYS) {
    throw new ConfigError(
      `OPENCONVAI_RETENTION_DAYS must be a number of days above 0 and at most ${MAX_DAYS} (or -1, or unset, to keep conversations forever), got "${raw.slice(0, 40)}".`,
    );
  }
  return value;
}

function parseIntervalSecs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return 300;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 86_400) {
    throw new ConfigError(
      `OPENCONVAI_RETENTION_INTERVAL_SECS must be a whole number of seconds from 1 to 86400, got "${raw.slice(0, 40)}".`,
    );
  }
  return value;
}
