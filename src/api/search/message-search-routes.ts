import type { FastifyInstance } from "fastify";
import { tokenizeSearch } from "../../domain/list-query.js";
import type { EmbeddingsModel } from "../../providers/embeddings/embeddings-model.js";
import { ProviderError } from "../../providers/provider-error.js";
import { type MessageSearchPage, searchMessagesByText } from "../../search/message-search.js";
import { decodeSearchCursor, type SearchCursor } from "../../search/search-cursor.js";
import type { SemanticIndex } from "../../search/semantic-index.js";
import { type SemanticSearchAnswer, searchMessagesBySimilarity } from "../../search/semantic-search.js";
import type { MessageSearchStore } from "../../store/message-search-store.js";
import type { ConversationStore } from "../../store/store.js";
import { ApiError, invalidCursor, ValidationFailed } from "../api-error.js";
import { type ListQueryString, listQuerySchema, toListQuery } from "../conversations/list-params.js";
import { integerParam } from "../path-params.js";

/** What message search uses. */
export interface MessageSearchRoutesDeps {
  messageSearch: MessageSearchStore;
  /** Semantic search reads the documents of the conversations it ranks. */
  conversationStore: ConversationStore;
  /** Unset when no embeddings provider is configured: smart search falls back to text search. */
  embeddings: EmbeddingsModel | undefined;
  /** The ANN index semantic search answers from once it is ready; unset: always the exact scan. */
  semanticIndex?: SemanticIndex | undefined;
}

/** The response header that says which index a semantic search answered from: `ann` or `exact`. */
export const SEMANTIC_INDEX_HEADER = "x-openconvai-semantic-index";

/** The response header that says which search ran: `semantic` or `text`. */
export const SEARCH_MODE_HEADER = "x-openconvai-search-mode";

const TEXT_QUERY = { type: "string", minLength: 1, maxLength: 500 } as const;
const PAGE_SIZE = integerParam({ minimum: 1, maximum: 50, default: 20 });

/** `…/messages/text-search`: the list's filters, plus the query, sort order and paging. */
const textSearchQuerySchema = {
  type: "object",
  properties: {
    ...listQuerySchema.properties,
    text_query: TEXT_QUERY,
    page_size: PAGE_SIZE,
    sort_by: { type: "string", enum: ["search_score", "created_at"] },
  },
  required: ["text_query"],
} as const;

/** `…/messages/smart-search`: the query, two filters and paging. */
const smartSearchQuerySchema = {
  type: "object",
  properties: {
    text_query: TEXT_QUERY,
    agent_id: listQuerySchema.properties.agent_id,
    branch_id: listQuerySchema.properties.branch_id,
    page_size: PAGE_SIZE,
    cursor: listQuerySchema.properties.cursor,
  },
  required: ["text_query"],
} as const;

type TextSearchQueryString = ListQueryString & {
  text_query: string;
  sort_by?: "search_score" | "created_at";
};

interface SmartSearchQueryString {
  text_query: string;
  agent_id?: string;
  branch_id?: string;
  page_size: number;
  cursor?: string;
}

/** Splits the query into words, or answers 422 when it has none. */
function queryWords(text: string): string[] {
  const words = tokenizeSearch(text);
  if (words.length === 0) {
    throw new ValidationFailed([
      { loc: ["query", "text_query"], msg: "The query must contain at least one word", type: "value_error" },
    ]);
  }
  return words;
}

/** Decodes a cursor of one of the given modes, or answers 422. */
function readCursor(text: string | undefined, modes: SearchCursor["mode"][]): SearchCursor | null {
  if (text === undefined || text === "") return null;
  const cursor = decodeSearchCursor(text);
  if (!cursor || !modes.includes(cursor.mode)) {
    throw invalidCursor("Invalid cursor: pass the next_cursor of the previous page of the same search");
  }
  return cursor;
}

/** Runs a text search (shared by text-search and the smart-search fallback). */
async function runTextSearch(
  messageSearch: MessageSearchStore,
  filters: ListQueryString,
  text: string,
  sortBy: "search_score" | "created_at",
  cursorText: string | undefined,
): Promise<MessageSearchPage> {
  const words = queryWords(text);
  const cursor = readCursor(cursorText, [sortBy === "created_at" ? "created" : "score"]);
  const query = toListQuery({ ...filters, cursor: undefined, search: words.join(" ") });
  return searchMessagesByText(messageSearch, {
    query,
    words,
    pageSize: filters.page_size,
    sortBy,
    cursor,
  });
}

/** Message search: ranked text search, and semantic search when an embeddings provider is configured. */
export async function messageSearchRoutes(
  app: FastifyInstance,
  deps: MessageSearchRoutesDeps,
): Promise<void> {
  app.get<{ Querystring: TextSearchQueryString }>(
    "/v1/convai/conversations/messages/text-search",
    { schema: { querystring: textSearchQuerySchema } },
    async (request, reply) => {
      const { text_query, sort_by, cursor, ...filters } = request.query;
      const page = await runTextSearch(
        deps.messageSearch,
        filters as ListQueryString,
        text_query,
        sort_by ?? "search_score",
        cursor,
      );
      reply.header(SEARCH_MODE_HEADER, "text");
      return page;
    },
  );

  app.get<{ Querystring: SmartSearchQueryString }>(
    "/v1/convai/conversations/messages/smart-search",
    { schema: { querystring: smartSearchQuerySchema } },
    async (request, reply) => {
      const q = request.query;
      const { embeddings } = deps;
      if (!embeddings) {
        // No embeddings provider: the same words, ranked by text search (see docs/compatibility.md).
        const filters: ListQueryString = { page_size: q.page_size };
        if (q.agent_id !== undefined) filters.agent_id = q.agent_id;
        if (q.branch_id !== undefined) filters.branch_id = q.branch_id;
        const page = await runTextSearch(deps.messageSearch, filters, q.text_query, "search_score", q.cursor);
        reply.header(SEARCH_MODE_HEADER, "text");
        return page;
      }
      queryWords(q.text_query);
      const cursor = readCursor(q.cursor, ["semantic"]);
      let answer: SemanticSearchAnswer;
      try {
        answer = await searchMessagesBySimilarity(deps.messageSearch, deps.conversationStore, embeddings, {
          text: q.text_query,
          filter: {
            ...(q.agent_id !== undefined ? { agentId: q.agent_id } : {}),
            ...(q.branch_id !== undefined ? { branchId: q.branch_id } : {}),
          },
          pageSize: q.page_size,
          cursor,
          index: deps.semanticIndex,
        });
      } catch (error) {
        if (error instanceof ProviderError) {
          throw new ApiError(502, "embeddings_provider_error", `Semantic search failed: ${error.message}`, {
            cause: error,
          });
        }
        throw error;
      }
      reply.header(SEARCH_MODE_HEADER, "semantic");
      reply.header(SEMANTIC_INDEX_HEADER, answer.index);
      return answer.page;
    },
  );
}
