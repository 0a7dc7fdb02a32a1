/**
 * The keys the server owns in a served document (`has_*`): never stored, stripped from what
 * arrives and appended, from what this server holds, to what is served.
 */
import type { ConversationDoc } from "./conversation.js";

/** Keys the server owns: computed from what this server holds, appended when a document is served. */
export const SERVER_OWNED_KEYS = [
  "has_audio",
  "has_user_audio",
  "has_response_audio",
  "has_auxiliary_audio",
] as const;

/**
 * Flags describing the audio this server holds for a conversation. The per-speaker flags are true
 * only for a recording of a live call, which keeps each speaker's track (imported audio is one
 * file); left out, they are false.
 */
export interface AudioFlags {
  hasAudio: boolean;
  /** The user's track is stored on its own (`GET …/audio?track=user`). */
  hasUserAudio?: boolean;
  /** The agent's track is stored on its own (`GET …/audio?track=agent`). */
  hasResponseAudio?: boolean;
}

/** Returns the document without the keys the server owns. */
export function stripServerOwnedKeys(doc: ConversationDoc): ConversationDoc {
  // fromEntries defines keys: `out[key] = value` would turn a `__proto__` key into the prototype.
  return Object.fromEntries(
    Object.entries(doc).filter(([key]) => !(SERVER_OWNED_KEYS as readonly string[]).includes(key)),
  );
}

/** The served `has_*` keys for these flags, without the braces. */
function audioKeys(audio: AudioFlags): string {
  return (
    `"has_audio":${audio.hasAudio},"has_user_audio":${audio.hasUserAudio === true},` +
    `"has_response_audio":${audio.hasResponseAudio === true},"has_auxiliary_audio":false`
  );
}

/**
 * The text appended to a stored document's bytes, after its closing `}` is dropped, for each
 * combination of the three flags: index 4 × hasAudio + 2 × hasUserAudio + hasResponseAudio. A store
 * that renders the served document where it reads it (SQLite, in its SELECT) picks one by the row's
 * audio columns, so the served bytes come out of the database in one piece.
 */
export const SERVED_TAILS: readonly string[] = Array.from(
  { length: 8 },
  (_, i) =>
    `,${audioKeys({ hasAudio: i >= 4, hasUserAudio: (i & 2) !== 0, hasResponseAudio: (i & 1) !== 0 })}}`,
);

/**
 * Serves a stored document: appends the server-owned keys to the stored JSON text without
 * parsing it (the stored text never holds them, and always ends with `}`).
 */
export function renderStoredDocument(json: string, audio: AudioFlags): string {
  const tail = `${audioKeys(audio)}}`;
  return json.length > 2 ? `${json.slice(0, -1)},${tail}` : `{${tail}`;
}
