/**
 * Live sessions' heartbeats, as in SQLite: when the serving node last said the session is still
 * running, in Unix milliseconds by the database server's clock (so node clocks never matter). Rows
 * registered before this (no heartbeat) are left to their own node's recovery at start.
 */
export const postgresSessionHeartbeatsMigration = `
  ALTER TABLE live_sessions ADD COLUMN heartbeat_at BIGINT;
  `;
