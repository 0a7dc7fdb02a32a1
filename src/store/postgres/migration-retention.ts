/**
 * Schema version 14: retention. `retention_agents` records, per agent, the retention fields of its
 * privacy settings as the retention job last saw them, since when they apply (so
 * `apply_to_existing_conversations: false` can spare the conversations that started before), and
 * how far the partial deletions (audio, transcript) of those settings have gone.
 */
export const postgresRetentionMigration = `
  CREATE TABLE retention_agents (
    agent_id TEXT COLLATE "C" PRIMARY KEY,
    settings TEXT NOT NULL,
    effective_at DOUBLE PRECISION NOT NULL,
    swept_start_time DOUBLE PRECISION,
    swept_conversation_id TEXT COLLATE "C"
  );
  `;
