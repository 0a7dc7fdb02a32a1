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

/** A number 0–7 for the three flags: the index of their tail in `AUDIO_TAILS`. */
function tailIndex(audio: AudioFlags): number {
  return (
    (audio.hasAudio ? 4 : 0) +
    (audio.hasUserAudio === true ? 2 : 0) +
    (audio.hasResponseAudio === true ? 1 : 0)
  );
}

/** The tail appended to stored bytes, one per combination of the three flags (built once). */
const AUDIO_TAILS: Buffer[] = Array.from({ length: 8 }, (_, i) =>
  Buffer.from(
    `,${audioKeys({ hasAudio: i >= 4, hasUserAudio: (i & 2) !== 0, hasResponseAudio: (i & 1) !== 0 })}}`,
  ),
);

/** `renderStoredDocument` on UTF-8 bytes: one copy, no decoding. */
export function renderStoredBytes(bytes: Buffer, audio: AudioFlags): Buffer {
  const tail = AUDIO_TAILS[tailIndex(audio)];
  if (bytes.length <= 2 || !tail) return Buffer.from(renderStoredDocument(bytes.toString("utf8"), audio));
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), tail], bytes.length - 1 + tail.length);
}

/**
 * Serves a stored document: appends the server-owned keys to the stored JSON text without
 * parsing it (the stored text never holds them, and always ends with `}`).
 */
export function renderStoredDocument(json: string, audio: AudioFlags): string {
  const tail = `${audioKeys(audio)}}`;
  return json.length > 2 ? `${json.slice(0, -1)},${tail}` : `{${tail}`;
}
