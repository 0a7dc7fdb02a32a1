/** Schema version 3: webhook deliveries, dead letters, pending webhook audio, sync state. */
export const postgresIngestMigration = `
  CREATE TABLE webhook_deliveries (
    body_sha256 TEXT COLLATE "C" PRIMARY KEY,
    type TEXT NOT NULL,
    conversation_id TEXT,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL
  );

  CREATE TABLE webhook_dead_letters (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body_sha256 TEXT COLLATE "C" NOT NULL UNIQUE,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL
  );

  CREATE TABLE webhook_pending_audio (
    conversation_id TEXT COLLATE "C" PRIMARY KEY,
    audio_key TEXT NOT NULL,
    audio_type TEXT NOT NULL,
    audio_size BIGINT NOT NULL,
    received_at BIGINT NOT NULL
  );

  CREATE TABLE sync_state (
    source TEXT COLLATE "C" PRIMARY KEY,
    high_water DOUBLE PRECISION,
    last_run BIGINT
  );
  `;
