import type { ConversationDoc } from "../domain/conversation.js";
import type { ListQuery } from "../domain/list-query.js";
import type { CandidatePosition, MessageSearchStore } from "../store/message-search-store.js";
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
/**
 * Conversations whose text one text search examines at most (walked from its newest candidate):
 * a query whose words are everywhere but together nowhere costs no more than this. A page that
 * reaches it ends early with a cursor (by time) or ranks what was found (by score).
 */
export const MAX_EXAMINED_CONVERSATIONS = 1500;
/**
 * Characters of candidate documents a ranking by score reads at most: with words that match
 * everywhere, parsing and scoring the window is the cost, so a window of large documents is cut
 * short (the same way on every page, so pages stay consistent).
 */
export const MAX_RANKED_CHARS = 400_000;
/** Candidates scored between two yields to the event loop. */
const SCORED_PER_YIELD = 5;
/** Conversations read from the store at a time. */
const CANDIDATE_BATCH = 50;

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
  /** Overrides MAX_EXAMINED_CONVERSATIONS (tests use a small one). */
  maxExamined?: number;
}

/** A result with its sort key. */
export interface Hit {
  key: ResultKey;
  result: MessageSearchResult;
}

/** A candidate conversation as a walk returns it. */
type Candidate = { conversationId: string; startTime: number; agentId: string; json: string };

/**
 * The best `size` hits seen so far in `compare` order (best first), kept sorted: a hit that would
 * not make it is turned away before its result is built. Keys are unique, so the order is total.
 */
class BestHits {
  private readonly hits: Hit[] = [];

  constructor(
    private readonly size: number,
    private readonly compare: (a: ResultKey, b: ResultKey) => number,
  ) {}

  /** Whether a hit with this key would be kept now. */
  wouldKeep(key: ResultKey): boolean {
    const worst = this.hits[this.hits.length - 1];
    return this.hits.length < this.size || (worst !== undefined && this.compare(key, worst.key) < 0);
  }

  add(hit: Hit): void {
    if (!this.wouldKeep(hit.key)) return;
    let at = this.hits.length;
    while (at > 0 && this.compare(hit.key, (this.hits[at - 1] as Hit).key) < 0) at--;
    this.hits.splice(at, 0, hit);
    if (this.hits.length > this.size) this.hits.pop();
  }

  /** The hits kept, best first. */
  sorted(): Hit[] {
    return this.hits;
  }
}

/** Lets other requests run between batches: SQLite answers synchronously, so `await` alone never yields. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The cursor key of a scan that has read every conversation down to a position (inclusive). */
function scannedUpTo(startTime: number, conversationId: string): ResultKey {
  return { score: 0, startTime, conversationId, transcriptIndex: Number.MAX_SAFE_INTEGER, chunk: 0 };
}

/** The agent name a document records, if any. */
export function agentNameOf(doc: ConversationDoc): string | null {
  return typeof doc.agent_name === "string" ? doc.agent_name : null;
}

/** Builds a page from sorted hits: the first `pageSize`, and a cursor when there are more. */
export function toPage(
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
  /** Calls `take` with each scored chunk of a candidate; `take` says whether it keeps the hit. */
  const scoreCandidate = (
    candidate: Candidate,
    take: (key: ResultKey) => boolean,
    keep: (hit: Hit) => void,
  ) => {
    const doc = JSON.parse(candidate.json) as ConversationDoc;
    for (const chunk of extractMessageChunks(doc)) {
      const score = scoreChunk(chunk.text, prepared);
      if (score <= 0) continue;
      const key: ResultKey = {
        score,
        startTime: candidate.startTime,
        conversationId: candidate.conversationId,
        transcriptIndex: chunk.transcriptIndex,
        chunk: chunk.chunk,
      };
      if (!take(key)) continue;
      keep({
        key,
        result: {
          conversation_id: candidate.conversationId,
          agent_id: candidate.agentId,
          agent_name: agentNameOf(doc),
          transcript_index: chunk.transcriptIndex,
          chunk_text: chunk.text,
          chunk_highlights: null,
          score,
          conversation_start_time_unix_secs: candidate.startTime,
        },
      });
    }
  };
  const hitsOf = (candidate: Candidate): Hit[] => {
    const hits: Hit[] = [];
    scoreCandidate(
      candidate,
      () => true,
      (hit) => hits.push(hit),
    );
    return hits;
  };

  const maxExamined = request.maxExamined ?? MAX_EXAMINED_CONVERSATIONS;
  // Highlights are made for the results shown only: a window can hold tens of thousands of hits.
  const highlighted = (shown: MessageSearchPage): MessageSearchPage => {
    for (const result of shown.results) result.chunk_highlights = highlightChunk(result.chunk_text, prepared);
    return shown;
  };
  if (request.sortBy === "created_at") {
    // Walks conversations newest first and stops as soon as the page (plus one) is full.
    const after = cursor?.mode === "created" ? cursor.last : null;
    // A cursor left where a walk stopped (no conversation id) starts below it, not at it.
    let from: CandidatePosition | null = after
      ? {
          startTime: after.startTime,
          conversationId: after.conversationId,
          inclusive: after.conversationId !== "",
        }
      : null;
    const hits: Hit[] = [];
    let scanned = 0;
    let examined = 0;
    let lastScanned: ResultKey | null = null;
    // A page that needs more than the scan allows ends early; its cursor goes on from there.
    const earlyPage = (last: ResultKey): MessageSearchPage => ({
      results: hits.slice(0, pageSize).map((h) => h.result),
      has_more: true,
      next_cursor: encodeSearchCursor({ mode: "created", page, last }),
      meta: { total: null, page, page_size: pageSize },
    });
    for (;;) {
      const walk = await store.walkCandidates(request.query, from, CANDIDATE_BATCH, maxExamined - examined);
      examined += walk.examined;
      const batch = walk.candidates;
      for (const candidate of batch) {
        scanned++;
        if (scanned % SCORED_PER_YIELD === 0) await yieldToEventLoop();
        for (const hit of hitsOf(candidate)) {
          if (after && compareByCreated(hit.key, after) <= 0) continue;
          hits.push(hit);
        }
        lastScanned = scannedUpTo(candidate.startTime, candidate.conversationId);
        if (hits.length > pageSize) break;
      }
      const lastCandidate = batch[batch.length - 1];
      if (hits.length > pageSize) break;
      if (walk.resume) {
        return highlighted(earlyPage(scannedUpTo(walk.resume.startTime, walk.resume.conversationId)));
      }
      if (batch.length < CANDIDATE_BATCH || !lastCandidate) break;
      if ((scanned >= MAX_CANDIDATE_CONVERSATIONS || examined >= maxExamined) && lastScanned) {
        return highlighted(earlyPage(lastScanned));
      }
      from = {
        startTime: lastCandidate.startTime,
        conversationId: lastCandidate.conversationId,
        inclusive: false,
      };
      await yieldToEventLoop();
    }
    return highlighted(toPage(hits, pageSize, page, null, (last) => ({ mode: "created", page, last })));
  }

  // By score: rank every hit in the window of newest candidates. Later pages keep the window the
  // first page saw (conversations newer than its newest one are left out), so pages do not shift.
  // The window is walked from its newest conversation with the same budget on every page, so every
  // page ranks the same conversations; the first page finds that conversation first (or, walking
  // through the planner, takes it from its first batch).
  // How the window is walked (PostgreSQL chooses between time order and its planner) is chosen
  // once, by the first page (the store's `chooseWalkPath`, or its first walk), and carried in the
  // cursor: a choice made again could differ (new rows, another node) and rank another window.
  let windowTop = cursor?.mode === "score" ? cursor.top : null;
  let path = cursor?.mode === "score" ? cursor.path : undefined;
  // A walk through the planner's statement does not stop at the budget, so its first batch from
  // the top is the window's first batch: the window's newest conversation is its first candidate,
  // and no step is spent on finding it (on PostgreSQL, each step reads every match of rare words).
  if (!windowTop) path ??= await store.chooseWalkPath?.(request.query);
  const fromTop = !windowTop && path === "planner";
  if (!windowTop && !fromTop) {
    const first = await store.walkCandidates(request.query, null, 1, maxExamined, path);
    path ??= first.path;
    const [newest] = first.candidates;
    if (newest) windowTop = { startTime: newest.startTime, conversationId: newest.conversationId };
    await yieldToEventLoop();
  }
  // Only the page (and one more, for has_more) is kept, best first: a window can hold tens of
  // thousands of hits, all scored and counted (`meta.total`), none of them held past its turn.
  const after = cursor?.mode === "score" ? cursor.last : null;
  const best = new BestHits(pageSize + 1, compareByScore);
  let total = 0;
  const take = (key: ResultKey) => {
    total++;
    return (!after || compareByScore(key, after) > 0) && best.wouldKeep(key);
  };
  const keep = (hit: Hit) => best.add(hit);
  let scanned = 0;
  let examined = 0;
  let ranked = 0;
  let from: CandidatePosition | null = windowTop ? { ...windowTop, inclusive: true } : null;
  // Documents are read for every candidate a walk returns: after a first whole batch, the next ones
  // ask for about what the characters left to rank take at the documents' size so far.
  let batchSize = CANDIDATE_BATCH;
  let atTop = fromTop;
  while (from || atTop) {
    const walk = await store.walkCandidates(request.query, from, batchSize, maxExamined - examined, path);
    path ??= walk.path;
    examined += walk.examined;
    const batch = walk.candidates;
    if (atTop) {
      atTop = false;
      const [newest] = batch;
      if (newest) windowTop = { startTime: newest.startTime, conversationId: newest.conversationId };
    }
    for (const candidate of batch) {
      if (scanned >= MAX_CANDIDATE_CONVERSATIONS || ranked >= MAX_RANKED_CHARS) break;
      scanned++;
      ranked += candidate.json.length;
      if (scanned % SCORED_PER_YIELD === 0) await yieldToEventLoop();
      scoreCandidate(candidate, take, keep);
    }
    const lastCandidate = batch[batch.length - 1];
    if (
      walk.resume ||
      batch.length < batchSize ||
      scanned >= MAX_CANDIDATE_CONVERSATIONS ||
      ranked >= MAX_RANKED_CHARS ||
      examined >= maxExamined ||
      !lastCandidate
    ) {
      break;
    }
    from = {
      startTime: lastCandidate.startTime,
      conversationId: lastCandidate.conversationId,
      inclusive: false,
    };
    const charsLeft = MAX_RANKED_CHARS - ranked;
    batchSize = Math.min(CANDIDATE_BATCH, Math.max(8, Math.ceil(charsLeft / (ranked / scanned)) + 1));
    await yieldToEventLoop();
  }
  const windowStart = windowTop ?? { startTime: 0, conversationId: "" };
  return highlighted(
    toPage(best.sorted(), pageSize, page, total, (last) => ({
      mode: "score",
      page,
      top: windowStart,
      last,
      ...(path ? { path } : {}),
    })),
  );
}
