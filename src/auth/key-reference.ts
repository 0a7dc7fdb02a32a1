import type { ApiKeyRow } from "../store/store.js";

/**
 * The fewest characters a partial id or key prefix may have. Every key starts with `oc_`, so a
 * shorter reference would pick a key by accident rather than by name.
 */
export const MIN_PARTIAL_REFERENCE = 6;

/** The keys a reference names, or why it names none. */
export type KeyReferenceMatch =
  | { kind: "matched"; keys: ApiKeyRow[] }
  | { kind: "too-short" }
  | { kind: "none" };

/**
 * Reads a reference the way a user gives it: surrounding spaces and the ellipsis `keys list` prints
 * after a prefix (`…`, or `...` typed by hand) are not part of it.
 */
export function normalizeKeyReference(reference: string): string {
  return reference.trim().replace(/(…|\.\.\.)$/u, "");
}

/**
 * The keys a reference names, most specific rule first: the full key (by its hash), the id, the
 * prefix `keys list` shows, and only then the start of an id or of a prefix. The first rule that
 * matches decides, so an exact name is never made ambiguous by a partial one.
 */
export function matchKeyReference(
  keys: readonly ApiKeyRow[],
  reference: string,
  hashKey: (secret: string) => string,
): KeyReferenceMatch {
  const ref = normalizeKeyReference(reference);
  if (ref === "") return { kind: "none" };
  // The full key is hashed as given: a key of one's own choosing may itself end in "...".
  const fullKeyHash = hashKey(reference.trim());
  const rules: ((k: ApiKeyRow) => boolean)[] = [
    (k) => k.hash === fullKeyHash,
    (k) => k.id === ref,
    (k) => k.prefix === ref,
  ];
  for (const rule of rules) {
    const matched = keys.filter(rule);
    if (matched.length > 0) return { kind: "matched", keys: matched };
  }
  if (ref.length < MIN_PARTIAL_REFERENCE) return { kind: "too-short" };
  const partial = keys.filter((k) => k.id.startsWith(ref) || k.prefix.startsWith(ref));
  return partial.length > 0 ? { kind: "matched", keys: partial } : { kind: "none" };
}
