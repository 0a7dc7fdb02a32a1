/**
 * Schema version 10: each speaker's track of a live call's recording, the same columns as
 * SQLite's. Null for audio that arrived as one file, so existing rows read as before; adding
 * nullable columns without a default rewrites no rows.
 */
export const postgresRecordingTracksMigration = `
  ALTER TABLE conversations
    ADD COLUMN user_audio_key TEXT,
    ADD COLUMN user_audio_size BIGINT,
    ADD COLUMN agent_audio_key TEXT,
    ADD COLUMN agent_audio_size BIGINT;
  `;
