/**
 * References to a conversation from outside: a Slack message URL or a Zendesk ticket URL, as
 * `GET /v1/convai/conversations/resolve` takes them. A reference is normalised to a key, so the
 * many spellings of one thread or ticket resolve alike:
 *
 * - Slack: `https://<workspace>.slack.com/archives/<channel>/p<digits>[?thread_ts=<ts>]` →
 *   `slack:<host>/<channel>/<ts>`, where ts is the thread's (`thread_ts`) when the link points at
 *   a reply, so every message of a thread names the same conversation;
 * - Zendesk: `https://<host>/agent/tickets/<id>`, `…/api/v2/tickets/<id>[.json]` or
 *   `…/hc/…/requests/<id>` → `zendesk:<host>/<id>`.
 */
import { createHash } from "node:crypto";
import type { ConversationDoc } from "./conversation.js";
import { asRecord, asString } from "./json-value.js";

/** The longest reference accepted (a URL). */
export const MAX_REFERENCE_LENGTH = 2048;

/** Turns Slack's `p1712345678123456` permalink id into a message ts (`1712345678.123456`). */
function slackTsFromPermalink(segment: string): string | undefined {
  const match = /^p(\d{10})(\d{6})$/.exec(segment);
  return match ? `${match[1]}.${match[2]}` : undefined;
}

/** Normalises a Slack message URL or Zendesk ticket URL to its key; undefined if it is neither. */
export function normaliseReference(reference: string): string | undefined {
  if (reference.length > MAX_REFERENCE_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(reference.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const host = url.hostname.toLowerCase();
  const parts = url.pathname.split("/").filter((p) => p.length > 0);
  if (host === "slack.com" || host.endsWith(".slack.com")) {
    const at = parts.indexOf("archives");
    const channel = parts[at + 1];
    const messageTs = slackTsFromPermalink(parts[at + 2] ?? "");
    if (at < 0 || !channel || !messageTs) return undefined;
    const threadTs = url.searchParams.get("thread_ts");
    const ts = threadTs && /^\d{10}\.\d{6}$/.test(threadTs) ? threadTs : messageTs;
    return `slack:${host}/${channel.toUpperCase()}/${ts}`;
  }
  const ticket =
    /^\/agent\/tickets\/(\d+)\/?$/.exec(url.pathname) ??
    /^\/api\/v2\/tickets\/(\d+)(?:\.json)?\/?$/.exec(url.pathname) ??
    /^\/hc\/(?:[^/]+\/)*requests\/(\d+)\/?$/.exec(url.pathname);
  // Leading zeros go, as text: a ticket id past 2^53 would lose digits as a Number.
  if (ticket?.[1]) return `zendesk:${host}/${ticket[1].replace(/^0+(?=\d)/, "")}`;
  return undefined;
}

/**
 * The conversation id a reference resolves to when no stored conversation records it: derived
 * from the agent id and the normalised key, so an integration can store the conversation under
 * that id up front (`conv_` and 32 hex digits of SHA-256).
 */
export function deriveReferenceConversationId(agentId: string, key: string): string {
  return `conv_${createHash("sha256").update(`${agentId}\u0000${key}`, "utf8").digest("hex").slice(0, 32)}`;
}

/** The reference keys a document records: its `metadata.async_metadata.external_link`, normalised. */
export function deriveReferenceKeys(doc: ConversationDoc): string[] {
  const link = asString(asRecord(asRecord(doc.metadata)?.async_metadata)?.external_link);
  const key = link !== null ? normaliseReference(link) : undefined;
  return key ? [key] : [];
}
