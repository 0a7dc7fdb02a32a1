/**
 * The "hostile search" benchmark row: the most expensive message search a client can send within
 * the documented limits (`text_query` of at most 500 characters, split into at most 16 words),
 * measured while a second load polls `/healthz`, so the table shows both what the search costs
 * and whether it holds up everyone else.
 *
 * The query is the 16 words found in the most generated conversations (longest first among
 * equals), ranked by score: every word matches almost everywhere, so the candidate walk fills the
 * whole ranking window (1,000 conversations, or fewer once their documents reach 400,000
 * characters) and every message of them is scored against 16 words. A query whose words are everywhere but together nowhere costs less: the walk stops at
 * its examined-conversation budget with nothing to rank.
 */
import { generateConversation } from "./generate-conversations.js";

/** The most words a search is split into (`tokenizeSearch`), and the longest `text_query`. */
const MAX_WORDS = 16;
const MAX_QUERY_CHARS = 500;

/** The 16 words in the most of the first `sample` generated conversations' messages. */
export function hostileSearchQuery(seed: number, sample = 300): string {
  const documentFrequency = new Map<string, number>();
  for (let i = 0; i < sample; i++) {
    const doc = generateConversation(i, seed) as { transcript?: { message?: unknown }[] };
    const words = new Set<string>();
    for (const entry of doc.transcript ?? []) {
      if (typeof entry.message !== "string") continue;
      for (const word of entry.message.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
        if (word.length >= 3) words.add(word);
      }
    }
    for (const word of words) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
  }
  const ranked = [...documentFrequency.entries()]
    .sort((a, b) => b[1] - a[1] || b[0].length - a[0].length || (a[0] < b[0] ? -1 : 1))
    .map(([word]) => word);
  const chosen: string[] = [];
  for (const word of ranked) {
    if (chosen.length >= MAX_WORDS) break;
    if ([...chosen, word].join(" ").length > MAX_QUERY_CHARS) continue;
    chosen.push(word);
  }
  return chosen.join(" ");
}

/** The request path of the hostile search (text search, default order: by score). */
export function hostileSearchPath(query: string): string {
  return `/v1/convai/conversations/messages/text-search?text_query=${encodeURIComponent(query)}`;
}

/** Checks a hostile search answer: 200 and a page of results. */
export function checkHostileSearch(status: number, body: string): string | undefined {
  if (status !== 200) return `status ${status}`;
  try {
    const parsed = JSON.parse(body) as { results?: unknown };
    return Array.isArray(parsed.results) && parsed.results.length > 0 ? undefined : "no results";
  } catch {
    return "not JSON";
  }
}

/** Checks a `/healthz` answer. */
export function checkHealthz(status: number, body: string): string | undefined {
  return status === 200 && body.includes('"ok"') ? undefined : `status ${status}`;
}
