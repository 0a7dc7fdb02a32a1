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

/** Flags describing the audio this server holds for a conversation. */
export interface AudioFlags {
  hasAudio: boolean;
}

/** Returns the document without the keys the server owns. */
export function stripServerOwnedKeys(doc: ConversationDoc): ConversationDoc {
  // fromEntries defines keys: `out[key] = value` would turn a `__proto__` key into the prototype.
  return Object.fromEntries(
    Object.entries(doc).filter(([key]) => !(SERVER_OWNED_KEYS as readonly string[]).includes(key)),
  );
}

const AUDIO_TAILS = {
  with: Buffer.from(
    ',"has_audio":true,"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}',
  ),
  without: Buffer.from(
    ',"has_audio":false,"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}',
  ),
};

/** `renderStoredDocument` on UTF-8 bytes: one copy, no decoding. */
export function renderStoredBytes(bytes: Buffer, audio: AudioFlags): Buffer {
  if (bytes.length <= 2) return Buffer.from(renderStoredDocument(bytes.toString("utf8"), audio));
  const tail = audio.hasAudio ? AUDIO_TAILS.with : AUDIO_TAILS.without;
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), tail], bytes.length - 1 + tail.length);
}

/**
 * Serves a stored document: appends the server-owned keys to the stored JSON text without
 * parsing it (the stored text never holds them, and always ends with `}`).
 */
export function renderStoredDocument(json: string, audio: AudioFlags): string {
  const tail = `"has_audio":${audio.hasAudio},"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}`;
  return json.length > 2 ? `${json.slice(0, -1)},${tail}` : `{${tail}`;
}
