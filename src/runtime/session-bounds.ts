/**
 * The bounds of one live session, so a client cannot grow a session's memory or its recorded
 * document without limit. Lengths are JavaScript string lengths (UTF-16 code units).
 *
 * - A `user_message`, `contextual_update` or `multimodal_message` text longer than
 *   `MAX_FRAME_TEXT_LENGTH` is refused: the session ends with close 1008 and a reason naming it.
 * - Contextual updates: the model is shown the last `MAX_CONTEXTUAL_UPDATES`, and no more than
 *   `MAX_CONTEXTUAL_UPDATES_LENGTH` of their text; older ones are dropped, oldest first.
 * - The transcript: when it holds `MAX_TRANSCRIPT_ENTRIES` entries or `MAX_TRANSCRIPT_LENGTH` of
 *   JSON, the next user message ends the session (close 1008, recorded `failed` with a
 *   termination reason starting "Conversation too long"); everything before it stays recorded.
 *   One agent turn can still add its entries past the limit (it is checked between turns).
 */

/** The longest text one client frame may carry: 64 Ki characters. */
export const MAX_FRAME_TEXT_LENGTH = 64 * 1024;

/** How many contextual updates a session keeps for the model (the latest ones). */
export const MAX_CONTEXTUAL_UPDATES = 50;

/** The most text the kept contextual updates may hold together: 64 Ki characters. */
export const MAX_CONTEXTUAL_UPDATES_LENGTH = 64 * 1024;

/** How many transcript entries a conversation may record before the next user message ends it. */
export const MAX_TRANSCRIPT_ENTRIES = 500;

/** How long (as JSON, about 4 MiB) the transcript may grow before the next user message ends it. */
export const MAX_TRANSCRIPT_LENGTH = 4 * 1024 * 1024;

/**
 * Adds a contextual update to those kept (in place), dropping the oldest while there are more
 * than `MAX_CONTEXTUAL_UPDATES` or their text is longer than `MAX_CONTEXTUAL_UPDATES_LENGTH`.
 */
export function keepContextualUpdate(updates: string[], update: string): void {
  updates.push(update);
  let length = updates.reduce((sum, text) => sum + text.length, 0);
  while (updates.length > MAX_CONTEXTUAL_UPDATES || length > MAX_CONTEXTUAL_UPDATES_LENGTH) {
    length -= updates.shift()?.length ?? 0;
  }
}

/** Why a transcript of `entries` entries and `length` JSON characters is too long; undefined when it is not. */
export function transcriptTooLong(entries: number, length: number): string | undefined {
  if (entries >= MAX_TRANSCRIPT_ENTRIES)
    return `Conversation too long: the transcript reached ${MAX_TRANSCRIPT_ENTRIES} entries`;
  if (length >= MAX_TRANSCRIPT_LENGTH)
    return `Conversation too long: the transcript reached ${MAX_TRANSCRIPT_LENGTH} characters`;
  return undefined;
}
