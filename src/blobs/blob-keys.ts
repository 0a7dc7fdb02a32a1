/**
 * The key layout of the blob store, in one place: every key the server writes is built here.
 *
 *   audio/<conversation id>            a conversation's recording
 *   files/<conversation id>/<file id>  a file uploaded to a conversation
 *
 * Conversation ids are percent-encoded, so a key is one path segment per part whatever the id.
 */

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

/** An id as one key segment: percent-encoded, and "." and ".." (which survive encodeURIComponent) spelled out. */
function encodeSegment(id: string): string {
  return encodeURIComponent(id).replace(/^\.{1,2}$/, (dots) => "%2E".repeat(dots.length));
}

/** The blob key of a conversation's audio recording. */
export function audioBlobKey(conversationId: string): string {
  return `audio/${encodeSegment(conversationId)}`;
}

/** The blob key of an uploaded file: under `files/`, by conversation, then file id. */
export function fileBlobKey(conversationId: string, fileId: string): string {
  return `files/${encodeSegment(conversationId)}/${fileId}`;
}
