import { ConfigError } from "./config-error.js";
import { readInteger } from "./env-values.js";

/**
 * Prometheus metrics (`/metrics`). Served on the API's port behind a bearer token, on a port of
 * their own without one, or both; with neither set they are off (no `/metrics` route at all).
 */
export interface MetricsConfig {
  /** OPENCONVAI_METRICS_TOKEN: `/metrics` on the API's port, for `Authorization: Bearer <token>`; unset, not served there. */
  token: string | undefined;
  /** OPENCONVAI_METRICS_PORT: a listener of its own serving `/metrics` without a token (0: any free port); unset, none. */
  port: number | undefined;
  /** OPENCONVAI_METRICS_HOST: the address that listener binds (default 127.0.0.1). */
  host: string;
}

/** Whether metrics are collected at all (a token or a port is set). */
export function metricsEnabled(config: MetricsConfig): boolean {
  return config.token !== undefined || config.port !== undefined;
}

/** Visible ASCII only (a header value), long enough not to be guessed. */
const TOKEN = /^[\x21-\x7e]{16,256}$/;

/** Reads the metrics settings from the environment. */
export function resolveMetricsConfig(env: Record<string, string | undefined>): MetricsConfig {
  const token = env.OPENCONVAI_METRICS_TOKEN || undefined;
  if (token !== undefined && !TOKEN.test(token)) {
    throw new ConfigError(
      "OPENCONVAI_METRICS_TOKEN must be 16 to 256 visible ASCII characters without spaces: generate one with `openssl rand -hex 32`.",
    );
  }
  const rawPort = env.OPENCONVAI_METRICS_PORT || undefined;
  const port =
    rawPort === undefined ? undefined : readInteger("OPENCONVAI_METRICS_PORT", rawPort, 0, 0, 65535);
  return { token, port, host: env.OPENCONVAI_METRICS_HOST || "127.0.0.1" };
}
