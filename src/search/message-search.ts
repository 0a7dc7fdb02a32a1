import type { ConversationDoc } from "../domain/conversation.js";
import type { ListQuery } from "../domain/list-query.js";
import type { EmbeddingsModel } from "../providers/embeddings/embeddings-model.js";
import type {
  CandidatePosition,
  EmbeddingFilter,
  EmbeddingKey,
  MessageSearchStore,
} from "../store/message-search-store.js";
import type { ConversationStore } from "../store/store.js";
import { cosineSimilarity } from "./cosine-similarity.js";
import {
  compareByCreated,
  compareByScore,
  encodeSearchCursor,
  type ResultKey,
  type SearchCursor,
} from "./search-cursor.js";
import { type HighlightSegment, highlightChunk, prepareQuery, scoreChunk } from "./text-ranking.js";
import { extractMessageChunks } from "./transcript-chunks.js";

/** Text search ranks the messages of at most this many conversations (the newest that match). */
export const MAX_CANDIDATE_CONVERSATIONS = 1000;
/** Conversations read from the store at a time. */
const CANDIDATE_BATCH = 100;
/** Embedded chunks read from the store at a time by a semantic search. */
const EMBEDDING_BATCH = 2000;

/** One result (MessagesSearchResult), in wire shape. */
export interface MessageSearchResult {
  conversation_id: string;
  agent_id: string;
  agent_name: string | null;
  transcript_index: number;
  chunk_text: string;
  chunk_highlights: HighlightSegment[] | null;
  score: number;
  conversation_start_time_unix_secs: number;
}

/** A page of results (MessagesSearchResponse), in wire shape. */
export interface MessageSearchPage {
  results: MessageSearchResult[];
  has_more: boolean;
  next_cursor: string | null;
  meta: { total: number | null; page: number; page_size: number };
}

/** A text search request, past validation. */
export interface TextSearchRequest {
  /** The filters, with `search` set to the query (so candidates hold every query word). */
  query: ListQuery;
  words: string[];
  pageSize: number;
  sortBy: "search_score" | "created_at";
  cursor: SearchCursor | null;
}

interface Hit {
  key: ResultKey;
  result: MessageSearchResult;
}

function agentNameOf(doc: ConversationDoc): string | null {
  return typeof doc.agent_name === "string" ? doc.agent_name : null;
}

/** Builds a page from sorted hits: the first `pageSize`, and a cursor when there are more. */
function toPage(
  hits: Hit[],
  pageSize: number,
  page: number,
  total: number | null,
  cursorFor: (last: ResultKey) => SearchCursor,
): MessageSearchPage {
  const hasMore = hits.length > pageSize;
  const shown = hits.slice(0, pageSize);
  const last = shown[shown.length - 1];
  return {
    results: shown.map((h) => h.result),
    has_more: hasMore,
    next_cursor: hasMore && last ? encodeSearchCursor(cursorFor(last.key)) : null,
    meta: { total, page, page_size: pageSize },
  };
}

/** Ranked text search over transcript messages (the ranking is described in text-ranking.ts). */
export async function searchMessagesByText(
  store: MessageSearchStore,
  request: TextSearchRequest,
): Promise<MessageSearchPage> {
  const prepared = prepareQuery(request.words);
  const { cursor, pageSize } = request;
  const page = (cursor?.page ?? 0) + 1;
  const hitsOf = (candidate: {
    conversationId: string;
    startTime: number;
    agentId: string;
    json: string;
  }) => {
    const doc = JSON.parse(candidate.json) as ConversationDoc;
    const hits: Hit[] = [];
    for (const chunk of extractMessageChunks(doc)) {
      const score = scoreChunk(chunk.text, prepared);
      if (score <= 0) continue;
      hits.push({
        key: {
          score,
          startTime: candidate.startTime,
          conversationId: candidate.conversationId,
          transcriptIndex: chunk.transcriptIndex,
          chunk: chunk.chunk,
        },
        result: {
          conversation_id: candidate.conversationId,
          agent_id: candidate.agentId,
          agent_name: agentNameOf(doc),
          transcript_index: chunk.transcriptIndex,
          chunk_text: chunk.text,
          chunk_highlights: highlightChunk(chunk.text, prepared),
          score,
          conversation_start_time_unix_secs: candidate.startTime,
        },
      });
    }
    return hits;
  };

  if (request.sortBy === "created_at") {
    // Walks conversations newest first and stops as soon as the page (plus one) is full.
    const after = cursor?.mode === "created" ? cursor.last : null;
    let from: CandidatePosition | null = after
      ? { startTime: after.startTime, conversationId: after.conversationId, inclusive: true }
      : null;
    const hits: Hit[] = [];
    let scanned = 0;
    let lastScanned: ResultKey | null = null;
    for (;;) {
      const batch = await store.findCandidates(request.query, from, CANDIDATE_BATCH);
      for (const candidate of batch) {
        scanned++;
        for (const hit of hitsOf(candidate)) {
          if (after && compareByCreated(hit.key, after) <= 0) continue;
          hits.push(hit);
        }
        lastScanned = {
          score: 0,
          startTime: candidate.startTime,
          conversationId: candidate.conversationId,
          transcriptIndex: Number.MAX_SAFE_INTEGER,
          chunk: 0,
        };
        if (hits.length > pageSize) break;
      }
      const lastCandidate = batch[batch.length - 1];
      if (hits.length > pageSize || batch.length < CANDIDATE_BATCH || !lastCandidate) break;
      if (scanned >= MAX_CANDIDATE_CONVERSATIONS) {
        // A page that needs more than the scan allows ends early; its cursor goes on from there.
        if (hits.length <= pageSize && lastScanned) {
          const shown = hits.slice(0, pageSize);
          return {
            results: shown.map((h) => h.result),
            has_more: true,
            next_cursor: encodeSearchCursor({ mode: "created", page, last: lastScanned }),
            meta: { total: null, page, page_size: pageSize },
          };
        }
        break;
      }
      from = {
        startTime: lastCandidate.startTime,
        conversationId: lastCandidate.conversationId,
        inclusive: false,
      };
    }
    return toPage(hits, pageSize, page, null, (last) => ({ mode: "created", page, last }));
  }

  // By score: rank every hit in the window of newest candidates. Later pages keep the window the
  // first page saw (conversations newer than its newest one are left out), so pages do not shift.
  const top = cursor?.mode === "score" ? cursor.top : null;
  let from: CandidatePosition | null = top ? { ...top, inclusive: true } : null;
  let windowTop = top;
  const hits: Hit[] = [];
  let scanned = 0;
  for (;;) {
    const batch = await store.findCandidates(request.query, from, CANDIDATE_BATCH);
    for (const candidate of batch) {
      if (scanned >= MAX_CANDIDATE_CONVERSATIONS) break;
      scanned++;
      windowTop ??= { startTime: candidate.startTime, conversationId: candidate.conversationId };
      hits.push(...hitsOf(candidate));
    }
    const lastCandidate = batch[batch.length - 1];
    if (batch.length < CANDIDATE_BATCH || scanned >= MAX_CANDIDATE_CONVERSATIONS || !lastCandidate) break;
    from = {
      startTime: lastCandidate.startTime,
      conversationId: lastCandidate.conversationId,
      inclusive: false,
    };
  }
  hits.sort((a, b) => compareByScore(a.key, b.key));
  const total = hits.length;
  const after = cursor?.mode === "score" ? cursor.last : null;
  const remaining = after ? hits.filter((h) => compareByScore(h.key, after) > 0) : hits;
  const windowStart = windowTop ?? { startTime: 0, conversationId: "" };
  return toPage(remaining, pageSize, page, total, (last) => ({
    mode: "score",
    page,
    top: windowStart,
    last,
  }));
}

/** A semantic search request, past validation. */
export interface SemanticSearchRequest {
  text: string;
  filter: EmbeddingFilter;
  pageSize: number;
  cursor: SearchCursor | null;
}

/**
 * Semantic search: the query is embedded, and every embedded chunk within the filter is compared
 * with it (cosine similarity, exact, in the server process); the best come first.
 */
export async function searchMessagesBySimilarity(
  store: MessageSearchStore,
  conversations: ConversationStore,
  embeddings: EmbeddingsModel,
  request: SemanticSearchRequest,
): Promise<MessageSearchPage> {
  const [queryVector] = await embeddings.embed([request.text]);
  if (!queryVector) throw new Error("no query vector");
  const { pageSize, cursor } = request;
  const after = cursor?.mode === "semantic" ? cursor.last : null;
  const keep = pageSize + 1;
  const best: { key: ResultKey; agentId: string; text: string }[] = [];
  let position: EmbeddingKey | null = null;
  for (;;) {
    const batch = await store.scanEmbeddings(embeddings.model, request.filter, position, EMBEDDING_BATCH);
    for (const row of batch) {
      const score = Math.round(cosineSimilarity(queryVector, row.vector) * 1e6) / 1e6;
      const key: ResultKey = {
        score,
        startTime: row.startTime,
        conversationId: row.conversationId,
        transcriptIndex: row.transcriptIndex,
        chunk: row.chunk,
      };
      if (after && compareByScore(key, after) <= 0) continue;
      const worst = best[best.length - 1];
      if (best.length >= keep && worst && compareByScore(key, worst.key) >= 0) continue;
      let at = best.length;
      while (at > 0 && compareByScore(key, (best[at - 1] as { key: ResultKey }).key) < 0) at--;
      best.splice(at, 0, { key, agentId: row.agentId, text: row.chunkText });
      if (best.length > keep) best.pop();
    }
    const last = batch[batch.length - 1];
    if (batch.length < EMBEDDING_BATCH || !last) break;
    position = {
      conversationId: last.conversationId,
      transcriptIndex: last.transcriptIndex,
      chunk: last.chunk,
    };
  }
  const names = new Map<string, string | null>();
  for (const { key } of best.slice(0, pageSize)) {
    if (names.has(key.conversationId)) continue;
    const stored = await conversations.getConversation(key.conversationId);
    names.set(key.conversationId, stored ? agentNameOf(JSON.parse(stored.json) as ConversationDoc) : null);
  }
  const page = (cursor?.page ?? 0) + 1;
  const hits: Hit[] = best.map(({ key, agentId, text }) => ({
    key,
    result: {
      conversation_id: key.conversationId,
      agent_id: agentId,
      agent_name: names.get(key.conversationId) ?? null,
      transcript_index: key.transcriptIndex,
      chunk_text: text,
      chunk_highlights: null,
      score: key.score,
      conversation_start_time_unix_secs: key.startTime,
    },
  }));
  return toPage(hits, pageSize, page, null, (last) => ({ mode: "semantic", page, last }));
}
