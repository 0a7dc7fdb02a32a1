/**
 * The longest id accepted anywhere: conversation, agent, tag, file and topic ids, in paths,
 * bodies, query filters, imported lines and webhooks. Upstream's ids are far shorter; the limit
 * bounds what is stored and indexed.
 */
export const MAX_ID_LENGTH = 512;
