/**
 * Live sessions, the same table as SQLite's: the conversation each node is serving right now, so
 * that a node restarted after a crash finds the sessions it left (and only its own) and marks them
 * failed.
 */
export const postgresLiveSessionsMigration = `
  CREATE TABLE live_sessions (
    conversation_id TEXT COLLATE "C" PRIMARY KEY,
    node_id TEXT COLLATE "C" NOT NULL,
    started_at BIGINT NOT NULL
  );
  CREATE INDEX live_sessions_node ON live_sessions (node_id, started_at, conversation_id);
  `;
