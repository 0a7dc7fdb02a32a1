import type { ConversationDoc } from "../domain/conversation.js";
import type { EmbeddingsModel } from "../providers/embeddings/embeddings-model.js";
import type {
  EmbeddedChunk,
  EmbeddingFilter,
  EmbeddingKey,
  MessageSearchStore,
} from "../store/message-search-store.js";
import type { ConversationStore } from "../store/store.js";
import type { NeighbourLabels } from "./ann/hnsw-index.js";
import { cosineSimilarity } from "./cosine-similarity.js";
import { agentNameOf, type Hit, type MessageSearchPage, toPage, yieldToEventLoop } from "./message-search.js";
import { compareBySimilarity, type ResultKey, type SearchCursor } from "./search-cursor.js";
import type { SemanticIndex } from "./semantic-index.js";

/** Embedded chunks read from the store at a time by a semantic search. */
const EMBEDDING_BATCH = 2000;

/** A semantic search request, past validation. */
export interface SemanticSearchRequest {
  text: string;
  filter: EmbeddingFilter;
  pageSize: number;
  cursor: SearchCursor | null;
  /** The ANN index, when this node keeps one (`OPENCONVAI_SEMANTIC_INDEX=ann`). */
  index?: SemanticIndex | undefined;
}

/** Which index answered: the ANN index, or the exact comparison with every vector. */
export type SemanticIndexUsed = "ann" | "exact";

/** A page of semantic results, and which index answered. */
export interface SemanticSearchAnswer {
  page: MessageSearchPage;
  index: SemanticIndexUsed;
}

/**
 * Neighbours asked of the ANN index at most: a search needing more (a deep page, or many rows
 * found gone) goes to the exact scan, whose cost does not grow with the page.
 */
export const MAX_ANN_NEIGHBOURS = 2000;

/**
 * How far below the last result kept a vector left out by the ANN index must score for the page to
 * be final: scores are rounded to 6 decimals, and the index's distances are float32 sums.
 */
const SCORE_MARGIN = 2e-6;

/** A ranked result before its agent name is looked up. */
interface Ranked {
  key: ResultKey;
  agentId: string;
  text: string;
}

/**
 * Semantic search: the query is embedded, and the nearest embedded chunks come first (cosine
 * similarity). Without a filter, once the ANN index is ready, the candidates are its nearest
 * neighbours, checked against the database (a row deleted or re-embedded since it was indexed is
 * dropped, and forgotten by the index) and scored exactly from the stored vectors, so scores, order
 * and cursors are those of the exact scan. With `agent_id` / `branch_id`, or before the index is
 * ready, every embedded chunk within the filter is compared (exact, in the server process): the
 * filter is applied by the database, so filtered answers stay exact.
 */
export async function searchMessagesBySimilarity(
  store: MessageSearchStore,
  conversations: ConversationStore,
  embeddings: EmbeddingsModel,
  request: SemanticSearchRequest,
): Promise<SemanticSearchAnswer> {
  const [queryVector] = await embeddings.embed([request.text]);
  if (!queryVector) throw new Error("no query vector");
  const { index } = request;
  const filtered = request.filter.agentId !== undefined || request.filter.branchId !== undefined;
  let best: Ranked[] | undefined;
  if (index?.ready && index.model === embeddings.model && !filtered) {
    best = await rankByAnn(store, index, queryVector, request);
  }
  const used: SemanticIndexUsed = best ? "ann" : "exact";
  best ??= await rankExactly(store, embeddings.model, queryVector, request);
  return { page: await toSemanticPage(conversations, best, request), index: used };
}

/** Inserts a result into `best` (kept in result order, at most `keep`) when it comes after the cursor. */
function keepBest(best: Ranked[], keep: number, after: ResultKey | null, key: ResultKey, row: Ranked): void {
  if (after && compareBySimilarity(key, after) <= 0) return;
  const worst = best[best.length - 1];
  if (best.length >= keep && worst && compareBySimilarity(key, worst.key) >= 0) return;
  let at = best.length;
  while (at > 0 && compareBySimilarity(key, (best[at - 1] as Ranked).key) < 0) at--;
  best.splice(at, 0, row);
  if (best.length > keep) best.pop();
}

/** The exact similarity, rounded as results show it. */
function scoreOf(query: Float32Array, vector: Float32Array): number {
  return Math.round(cosineSimilarity(query, vector) * 1e6) / 1e6;
}

function keyOf(score: number, row: EmbeddedChunk): ResultKey {
  return {
    score,
    startTime: row.startTime,
    conversationId: row.conversationId,
    transcriptIndex: row.transcriptIndex,
    chunk: row.chunk,
    label: row.label,
  };
}

/**
 * Ranks the ANN index's neighbours, asking for more while too few survive the database check and
 * the cursor; undefined (the caller scans exactly) past `MAX_ANN_NEIGHBOURS`.
 */
async function rankByAnn(
  store: MessageSearchStore,
  index: SemanticIndex,
  query: Float32Array,
  request: SemanticSearchRequest,
): Promise<Ranked[] | undefined> {
  const { pageSize, cursor } = request;
  const after = cursor?.mode === "semantic" ? cursor.last : null;
  const keep = pageSize + 1;
  // Earlier pages' results come first among the neighbours: ask for them too, with room to spare.
  let k = Math.max(50, 3 * ((cursor?.page ?? 0) * pageSize + keep));
  if (k > MAX_ANN_NEIGHBOURS) return undefined;
  for (;;) {
    const found = await index.search(query, k);
    // Not ready any more, or a query of other dimensions than the indexed vectors.
    if (!found) return undefined;
    const rows = await store.findChunksByLabel(index.model, found.labels, {});
    const present = new Set(rows.map((row) => row.label));
    const gone = found.labels.filter((label) => !present.has(label));
    if (gone.length > 0) index.forget(gone);
    const best: Ranked[] = [];
    for (const row of rows) {
      const key = keyOf(scoreOf(query, row.vector), row);
      keepBest(best, keep, after, key, { key, agentId: row.agentId, text: row.chunkText });
    }
    if (isFinal(found, best, keep)) return best;
    if (k >= MAX_ANN_NEIGHBOURS) return undefined;
    k = Math.min(4 * k, MAX_ANN_NEIGHBOURS);
  }
}

/**
 * Whether the ANN answer settles the page: no label left out can come before the last result kept.
 * Left out are the points not returned (none nearer than `nextDistance`) and the lower labels of
 * the groups cut at k: such a group at the last result's score (rounded scores tie, then labels
 * order) settles it only when its lowest label returned is not above the last result's; one
 * scoring higher never does (its other labels come first). An index with nothing more and no cut
 * group settles any page, however short.
 */
function isFinal(found: NeighbourLabels, best: readonly Ranked[], keep: number): boolean {
  if (found.capped) return false;
  const cuts = found.cuts ?? [];
  if (found.nextDistance === undefined && cuts.length === 0) return true;
  const worst = best[best.length - 1];
  if (!worst || best.length < keep) return false;
  const { score, label } = worst.key;
  if (found.nextDistance !== undefined && 1 - found.nextDistance >= score - SCORE_MARGIN) return false;
  for (const cut of cuts) {
    const cutScore = 1 - cut.distance;
    if (cutScore < score - SCORE_MARGIN) continue;
    if (cutScore > score + SCORE_MARGIN || cut.lowest > (label ?? 0)) return false;
  }
  return true;
}

/** Compares the query with every embedded chunk within the filter. */
async function rankExactly(
  store: MessageSearchStore,
  model: string,
  query: Float32Array,
  request: SemanticSearchRequest,
): Promise<Ranked[]> {
  const { pageSize, cursor } = request;
  const after = cursor?.mode === "semantic" ? cursor.last : null;
  const keep = pageSize + 1;
  const best: Ranked[] = [];
  let position: EmbeddingKey | null = null;
  for (;;) {
    const batch = await store.scanEmbeddings(model, request.filter, position, EMBEDDING_BATCH);
    for (const row of batch) {
      const key = keyOf(scoreOf(query, row.vector), row);
      keepBest(best, keep, after, key, { key, agentId: row.agentId, text: row.chunkText });
    }
    const last = batch[batch.length - 1];
    if (batch.length < EMBEDDING_BATCH || !last) break;
    await yieldToEventLoop();
    position = {
      conversationId: last.conversationId,
      transcriptIndex: last.transcriptIndex,
      chunk: last.chunk,
    };
  }
  return best;
}

/** The page of ranked results, with their agents' names. */
async function toSemanticPage(
  conversations: ConversationStore,
  best: readonly Ranked[],
  request: SemanticSearchRequest,
): Promise<MessageSearchPage> {
  const { pageSize, cursor } = request;
  // The agents' names are in the documents: read together, not one round trip after another.
  const ids = [...new Set(best.slice(0, pageSize).map(({ key }) => key.conversationId))];
  const stored = await Promise.all(ids.map((id) => conversations.getConversation(id)));
  const names = new Map<string, string | null>(
    ids.map((id, i) => {
      const doc = stored[i];
      return [id, doc ? agentNameOf(JSON.parse(doc.json) as ConversationDoc) : null];
    }),
  );
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
