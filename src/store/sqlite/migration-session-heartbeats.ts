/**
 * Live sessions' heartbeats: when the serving node last said the session is still running, in Unix
 * milliseconds by the database's clock. Rows registered before this (no heartbeat) are left to
 * their own node's recovery at start.
 */
export const sqliteSessionHeartbeatsMigration = `
  ALTER TABLE live_sessions ADD COLUMN heartbeat_at INTEGER;
  `;
