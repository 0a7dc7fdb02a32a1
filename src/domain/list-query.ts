import type { FacetKind } from "./conversation.js";
import { foldForSearch } from "./search-fold.js";

/** Where a page starts: the last item of the previous page, in the list's order. */
export interface ListCursor {
  startTime: number;
  conversationId: string;
}

/** A comparison on a keyed value (a data-collection field or a dynamic variable). */
export type CompareOp = "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in";

/** One `id:op:value` condition from `data_collection_params` or `dynamic_variable_params`. */
export interface KeyedCondition {
  key: string;
  op: CompareOp;
  /** One value, or several for `in`; an empty string means "not set" with eq and "set" with neq. */
  values: string[];
}

/** "Matches any of these values" on one facet kind (all such conditions must hold). */
export interface AnyOfCondition {
  kind: FacetKind;
  values: string[];
}

/** A validated list request: every filter the list endpoint supports, in domain terms. */
export interface ListQuery {
  pageSize: number;
  cursor: ListCursor | null;
  direction: "asc" | "desc";
  agentId?: string;
  /** Values of `analysis.call_successful` to match. */
  callSuccessful?: string[];
  /** Also match conversations whose status is `failed` (the `error` value of `call_successful`). */
  callFailedStatus?: boolean;
  startBefore?: number;
  startAfter?: number;
  durationMin?: number;
  durationMax?: number;
  ratingMin?: number;
  ratingMax?: number;
  hasFeedbackComment?: boolean;
  userId?: string;
  branchId?: string;
  versionId?: string;
  parentConversationId?: string;
  initiationSource?: string;
  textOnly?: boolean;
  conversationProduct?: string;
  mainLanguages?: string[];
  excludeStatuses?: string[];
  search?: string;
  anyOf: AnyOfCondition[];
  /** `criteria_id:result` pairs; each must hold. */
  evaluations: { key: string; value: string }[];
  dataCollection: KeyedCondition[];
  dynamicVariables: KeyedCondition[];
}

/** One page of list items, as JSON texts ready to send. */
export interface ListPage<T> {
  items: T[];
  nextCursor: ListCursor | null;
  hasMore: boolean;
}

/** The most words a search is split into; the rest are ignored. */
const MAX_SEARCH_WORDS = 16;

/**
 * Splits a search into words: whitespace-separated, each matched as a substring, folded as the
 * stored search text is (`foldForSearch`). The list's `search` filter and message search split
 * queries the same way.
 */
export function tokenizeSearch(search: string): string[] {
  return foldForSearch(search)
    .split(/\s+/u)
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .slice(0, MAX_SEARCH_WORDS);
}
