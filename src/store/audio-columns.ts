/**
 * The audio columns of a conversation row (the recording, then each speaker's track), shared by
 * the SQLite and PostgreSQL stores: their names in one order, the values to write, and the
 * `AudioInfo` they read as.
 */
import type { AudioInfo } from "./audio-info.js";

/** The audio columns of a conversation row: the recording, then each speaker's track. */
export interface AudioDbRow {
  audio_key: string | null;
  audio_type: string | null;
  audio_size: number | null;
  user_audio_key: string | null;
  user_audio_size: number | null;
  agent_audio_key: string | null;
  agent_audio_size: number | null;
}

/** The audio column names, in `AudioDbRow` order. */
const AUDIO_COLUMN_NAMES = [
  "audio_key",
  "audio_type",
  "audio_size",
  "user_audio_key",
  "user_audio_size",
  "agent_audio_key",
  "agent_audio_size",
] as const;

/** The audio columns in `AudioDbRow` order, for SELECT and RETURNING lists (`prefix` qualifies each). */
export function audioColumns(prefix = ""): string {
  return AUDIO_COLUMN_NAMES.map((name) => `${prefix}${name}`).join(", ");
}

/** `column = <placeholder>` for each audio column in `audioValues` order; `param(i)` writes the i-th (from 0). */
export function audioAssignments(param: (index: number) => string): string {
  return AUDIO_COLUMN_NAMES.map((name, i) => `${name} = ${param(i)}`).join(", ");
}

/** The audio columns' values for an UPDATE in `audioColumns()` order (a recording without tracks clears them). */
export function audioValues(audio: AudioInfo): (string | number | null)[] {
  const { user, agent } = audio.tracks ?? {};
  return [
    audio.blobKey,
    audio.contentType,
    audio.size,
    user?.blobKey ?? null,
    user?.size ?? null,
    agent?.blobKey ?? null,
    agent?.size ?? null,
  ];
}

/** Reads the audio columns. */
export function toAudio(row: AudioDbRow): AudioInfo | null {
  if (row.audio_key === null) return null;
  const audio: AudioInfo = {
    blobKey: row.audio_key,
    contentType: row.audio_type ?? "audio/mpeg",
    size: row.audio_size ?? 0,
  };
  const tracks: AudioInfo["tracks"] = {};
  if (row.user_audio_key !== null)
    tracks.user = { blobKey: row.user_audio_key, size: row.user_audio_size ?? 0 };
  if (row.agent_audio_key !== null) {
    tracks.agent = { blobKey: row.agent_audio_key, size: row.agent_audio_size ?? 0 };
  }
  // The key only when there are tracks: imported audio reads exactly as before.
  return tracks.user || tracks.agent ? { ...audio, tracks } : audio;
}
