/**
 * The longest id accepted anywhere: conversation, agent, tag, file and topic ids, in paths,
 * bodies, query filters, imported lines and webhooks. Upstream's ids are far shorter; the limit
 * bounds what is stored and indexed.
 */
export const MAX_ID_LENGTH = 512;

/** A lone UTF-16 surrogate: JSON can spell one ("\ud800"), but it is no character and no UTF-8. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Why an id cannot be stored as it is, or undefined when it can: PostgreSQL text holds neither
 * U+0000 nor a lone surrogate (both would turn into U+FFFD and collide with another id), so no
 * backend accepts them and every backend gives the same answer.
 */
export function unstorableIdReason(id: string): "nul" | "lone_surrogate" | undefined {
  if (id.includes("\u0000")) return "nul";
  return LONE_SURROGATE.test(id) ? "lone_surrogate" : undefined;
}
