import { ConfigError } from "./config-error.js";
import { readInteger } from "./env-values.js";

/** Live sessions' heartbeats: how a node shows its sessions still run, and when others take them over. */
export interface HeartbeatConfig {
  /** OPENCONVAI_SESSION_HEARTBEAT_MS: how often a node refreshes its live sessions' heartbeat (default 10000). */
  intervalMs: number;
  /**
   * OPENCONVAI_SESSION_HEARTBEAT_TIMEOUT_MS: a session whose heartbeat is older than this is taken
   * for cut off (its node crashed or lost the database) and any node recovers it (default three
   * intervals; at least two).
   */
  timeoutMs: number;
}

/** Reads the heartbeat settings from the environment. */
export function resolveHeartbeatConfig(env: Record<string, string | undefined>): HeartbeatConfig {
  const intervalMs = readInteger(
    "OPENCONVAI_SESSION_HEARTBEAT_MS",
    env.OPENCONVAI_SESSION_HEARTBEAT_MS || undefined,
    10_000,
    50,
    600_000,
  );
  const timeoutMs = readInteger(
    "OPENCONVAI_SESSION_HEARTBEAT_TIMEOUT_MS",
    env.OPENCONVAI_SESSION_HEARTBEAT_TIMEOUT_MS || undefined,
    3 * intervalMs,
    1,
    86_400_000,
  );
  if (timeoutMs < 2 * intervalMs) {
    throw new ConfigError(
      `OPENCONVAI_SESSION_HEARTBEAT_TIMEOUT_MS (${timeoutMs}) must be at least twice OPENCONVAI_SESSION_HEARTBEAT_MS (${intervalMs}), or a slow heartbeat would fail live sessions: raise the timeout or shorten the interval.`,
    );
  }
  return { intervalMs, timeoutMs };
}
