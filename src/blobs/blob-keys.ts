/**
 * The key layout of the blob store, in one place: every key the server writes is built here.
 *
 *   audio/<conversation id>            a conversation's recording
 *   files/<conversation id>/<file id>  a file uploaded to a conversation
 *
 * Conversation ids are percent-encoded, so a key is one path segment per part whatever the id.
 */

/** The blob key of a conversation's audio recording. */
export function audioBlobKey(conversationId: string): string {
  return `audio/${encodeURIComponent(conversationId)}`;
}

/** The blob key of an uploaded file: under `files/`, by conversation, then file id. */
export function fileBlobKey(conversationId: string, fileId: string): string {
  // "." and ".." survive encodeURIComponent; spelled out, they cannot name a parent directory.
  const folder = encodeURIComponent(conversationId).replace(/^\.{1,2}$/, (dots) => "%2E".repeat(dots.length));
  return `files/${folder}/${fileId}`;
}
