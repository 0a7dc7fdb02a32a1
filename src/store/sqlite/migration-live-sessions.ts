/**
 * Live sessions: the conversation each node is serving right now, so that a node restarted after a
 * crash finds the sessions it left and marks them failed.
 */
export const sqliteLiveSessionsMigration = `
  CREATE TABLE live_sessions (
    conversation_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    started_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX live_sessions_node ON live_sessions (node_id, started_at, conversation_id);
  `;
