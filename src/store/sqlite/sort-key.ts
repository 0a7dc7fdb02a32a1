/**
 * Sort keys: a unique integer per conversation that orders like its start time to the second.
 * The full-text table is keyed by it, so a search can walk the index newest (or oldest) first
 * and stop after a page. Within a second, slots are spread by a hash of the id and probed.
 */

/** Slots per second: how many conversations may start in the same second. */
export const SORT_KEY_SLOTS = 65_536;
const MAX_SECOND = 2 ** 36;

/** The second a start time is filed under (clamped, so keys stay exact integers). */
export function sortKeySecond(startTime: number): number {
  return Math.min(Math.max(Math.floor(startTime), 0), MAX_SECOND);
}

/** The smallest key of a second. */
export function sortKeyFloor(startTime: number): number {
  return sortKeySecond(startTime) * SORT_KEY_SLOTS;
}

/** The smallest key of the second after. */
export function sortKeyCeiling(startTime: number): number {
  return (sortKeySecond(startTime) + 1) * SORT_KEY_SLOTS;
}

/** The second a key belongs to. */
export function secondOfSortKey(key: number): number {
  return Math.floor(key / SORT_KEY_SLOTS);
}

/** FNV-1a over the id's UTF-16 code units. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The keys to try, in order, for a conversation starting at a time. */
export function* sortKeyCandidates(startTime: number, conversationId: string): Generator<number> {
  const base = sortKeyFloor(startTime);
  const first = hashId(conversationId) % SORT_KEY_SLOTS;
  for (let i = 0; i < SORT_KEY_SLOTS; i++) yield base + ((first + i) % SORT_KEY_SLOTS);
}
