/** Schema version 3: webhook deliveries, dead letters, pending webhook audio, sync state. */
export const sqliteIngestMigration = `
  CREATE TABLE webhook_deliveries (
    body_sha256 TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    conversation_id TEXT,
    outcome TEXT NOT NULL,
    received_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE webhook_dead_letters (
    seq INTEGER PRIMARY KEY,
    body_sha256 TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );

  CREATE TABLE webhook_pending_audio (
    conversation_id TEXT PRIMARY KEY,
    audio_key TEXT NOT NULL,
    audio_type TEXT NOT NULL,
    audio_size INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  );

  CREATE TABLE sync_state (
    source TEXT PRIMARY KEY,
    high_water REAL,
    last_run INTEGER
  );
  `;
