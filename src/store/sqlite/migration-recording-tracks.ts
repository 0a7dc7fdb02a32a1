/**
 * Schema version 9: each speaker's track of a live call's recording, beside the recording itself
 * (`audio_key`). Null for audio that arrived as one file, so existing rows read as before.
 */
export const sqliteRecordingTracksMigration = `
  ALTER TABLE conversations ADD COLUMN user_audio_key TEXT;
  ALTER TABLE conversations ADD COLUMN user_audio_size INTEGER;
  ALTER TABLE conversations ADD COLUMN agent_audio_key TEXT;
  ALTER TABLE conversations ADD COLUMN agent_audio_size INTEGER;
  `;
