/**
 * The conversation document and the record the server derives from it.
 *
 * A conversation is kept as the exact JSON document it arrived as (wire shape, snake_case
 * end to end, unknown keys included). Everything the list filters and the list view need is
 * derived once, at write time (conversation-record.ts), so both store backends index the same
 * facts and reads never re-derive them.
 */

/** A conversation document in the upstream wire shape. Unknown keys are kept as they are. */
export type ConversationDoc = Record<string, unknown>;

/** One row of a multi-valued index ("facet"): used by the list filters that match any of several values. */
export interface Facet {
  kind: FacetKind;
  key: string;
  value: string;
  /** The value as a number when it is one, for gt/gte/lt/lte comparisons. */
  num: number | null;
}

/** What a facet row indexes. */
export type FacetKind =
  | "tool"
  | "tool_ok"
  | "tool_err"
  | "tool_any"
  | "visited_agent"
  | "visited_branch"
  | "tag"
  | "topic"
  | "language"
  | "eval"
  | "data"
  | "dynvar"
  | "guardrail_type"
  | "guardrail_name"
  | "workflow_node"
  | "termination_reason"
  | "reference";

/** Scalar fields the list filters and the default order use. */
export interface ConversationIndex {
  conversationId: string;
  agentId: string;
  status: string;
  startTime: number;
  duration: number;
  callSuccessful: string;
  userId: string | null;
  branchId: string | null;
  versionId: string | null;
  mainLanguage: string | null;
  initiationSource: string | null;
  textOnly: boolean | null;
  rating: number | null;
  hasFeedbackComment: boolean;
  parentConversationId: string | null;
  conversationProduct: string | null;
}

/** Everything a store needs to write one conversation. */
export interface ConversationRecord {
  index: ConversationIndex;
  /** The document as JSON text, without the server-owned keys. */
  json: string;
  /** The list item (ConversationSummaryResponseModel) as JSON text, without `transcript_summary`. */
  listItemJson: string;
  /** `analysis.transcript_summary`, added to list items when `summary_mode=include`. */
  transcriptSummary: string | null;
  /** Per-criterion results for the list's `evaluation_criteria_ids` projection (JSON object text or null). */
  evaluationResultsJson: string | null;
  /** Per-field values for the list's `data_collection_ids` projection (JSON object text or null). */
  dataCollectionResultsJson: string | null;
  facets: Facet[];
  /** Transcript messages and the summary, one per line: what full-text search looks in. */
  searchText: string;
}
