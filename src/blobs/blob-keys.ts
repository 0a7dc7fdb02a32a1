/**
 * The key layout of the blob store, in one place: every key the server writes is built here.
 *
 *   audio/<sha256 of id>/<random>        a conversation's recording, a new key for every write
 *   audio/<sha256 of id>/<track>-<random> one speaker's track (`user`, `agent`) of a live call's
 *                                        recording, a new key for every write
 *   files/<id folder>/<file id>          a file uploaded to a conversation
 *
 * Every accepted conversation id (1–512 characters of anything) must give short, safe names:
 * ".", "..", "a/b", 512 emoji. So the audio folder is the SHA-256 of the id, and a file folder is
 * the percent-encoded id when that is a short ordinary name, else `=` and the SHA-256 (percent
 * encoding never writes `=`, so the two kinds cannot meet). Rows store their blob key, so keys
 * written under an older layout (`audio/<encoded id>`) keep working.
 *
 * A recording is never overwritten in place: each write gets a key of its own, and the row is
 * switched to it in one statement. So the size and type a row records always describe the bytes
 * at its key, and of two concurrent writers one wins whole.
 */
import { createHash, randomUUID } from "node:crypto";

/** A blob key that is not a plain relative path of named segments; every BlobStore refuses it. */
export class InvalidBlobKeyError extends Error {
  constructor(readonly key: string) {
    super(`invalid blob key: ${key}`);
    this.name = "InvalidBlobKeyError";
  }
}

/**
 * Refuses a key that is not "/"-separated segments, none of them empty, "." or "..", without
 * backslashes or NULs: on a filesystem such a key could name a parent directory or another key.
 */
export function assertBlobKey(key: string): void {
  if (/[\\\0]/.test(key) || key.split("/").some((segment) => segment === "" || /^\.{1,2}$/.test(segment))) {
    throw new InvalidBlobKeyError(key);
  }
}

/** The longest percent-encoded id used as a folder name as it is; well under any filesystem's 255 bytes. */
const MAX_PLAIN_SEGMENT = 128;

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A conversation's file folder: its percent-encoded id when short and not dots, else `=` and its SHA-256. */
function fileFolder(conversationId: string): string {
  const encoded = encodeURIComponent(conversationId);
  return encoded.length <= MAX_PLAIN_SEGMENT && !/^\.+$/.test(encoded)
    ? encoded
    : `=${sha256Hex(conversationId)}`;
}

/**
 * The folder of a conversation's recordings (`audio/<sha256 of the id>`): each recording is a key
 * under it (`newAudioBlobKey`). A hash, so it can never be a file of the older `audio/<id>` layout.
 */
export function audioBlobKey(conversationId: string): string {
  return `audio/${sha256Hex(conversationId)}`;
}

/** A fresh key for one write of a conversation's recording: no other write ever uses it. */
export function newAudioBlobKey(conversationId: string): string {
  return `${audioBlobKey(conversationId)}/${randomUUID()}`;
}

/**
 * A fresh key for one write of a speaker's track of a conversation's recording, beside the
 * recording in its folder (so deleting the folder's keys removes both); no other write uses it.
 */
export function newTrackBlobKey(conversationId: string, track: "user" | "agent"): string {
  return `${audioBlobKey(conversationId)}/${track}-${randomUUID()}`;
}

/** The blob key of an uploaded file: under `files/`, by conversation, then file id. */
export function fileBlobKey(conversationId: string, fileId: string): string {
  return `files/${fileFolder(conversationId)}/${fileId}`;
}
