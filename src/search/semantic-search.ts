import type { ConversationDoc } from "../domain/conversation.js";
import type { EmbeddingsModel } from "../providers/embeddings/embeddings-model.js";
import type { EmbeddingFilter, EmbeddingKey, MessageSearchStore } from "../store/message-search-store.js";
import type { ConversationStore } from "../store/store.js";
import { cosineSimilarity } from "./cosine-similarity.js";
import { agentNameOf, type Hit, type MessageSearchPage, toPage, yieldToEventLoop } from "./message-search.js";
import { compareByScore, type ResultKey, type SearchCursor } from "./search-cursor.js";

/** Embedded chunks read from the store at a time by a semantic search. */
const EMBEDDING_BATCH = 2000;

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
    await yieldToEventLoop();
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
