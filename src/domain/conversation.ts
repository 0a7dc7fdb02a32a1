/**
 * The conversation document and what the server derives from it.
 *
 * A conversation is kept as the exact JSON document it arrived as (wire shape, snake_case
 * end to end, unknown keys included). Everything the list filters and the list view need is
 * derived here, once, at write time, so both store backends index the same facts and reads
 * never re-derive them.
 */

import { deriveReferenceKeys } from "./conversation-reference.js";

/** A conversation document in the upstream wire shape. Unknown keys are kept as they are. */
export type ConversationDoc = Record<string, unknown>;

/** Keys the server owns: computed from what this server holds, appended when a document is served. */
export const SERVER_OWNED_KEYS = [
  "has_audio",
  "has_user_audio",
  "has_response_audio",
  "has_auxiliary_audio",
] as const;

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

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function asNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Renders a facet value: strings as they are, everything else as its JSON text. */
function facetValue(value: unknown): { value: string; num: number | null } {
  if (typeof value === "string") {
    const n = value.trim() === "" ? Number.NaN : Number(value);
    return { value, num: Number.isFinite(n) ? n : null };
  }
  if (typeof value === "number") return { value: String(value), num: Number.isFinite(value) ? value : null };
  if (typeof value === "boolean") return { value: String(value), num: null };
  return { value: JSON.stringify(value), num: null };
}

/** Counts the plain chat message turns: transcript entries that carry a non-empty message. */
export function countMessages(doc: ConversationDoc): number {
  let n = 0;
  for (const entry of asArray(doc.transcript)) {
    const message = asString(asRecord(entry)?.message);
    if (message !== null && message.length > 0) n++;
  }
  return n;
}

/** Builds the facets (multi-valued filter index rows) of a document. */
export function deriveFacets(doc: ConversationDoc): Facet[] {
  const facets: Facet[] = [];
  const seen = new Set<string>();
  const add = (kind: FacetKind, key: string, raw: unknown) => {
    const { value, num } = facetValue(raw);
    const id = `${kind}\u0000${key}\u0000${value}`;
    if (seen.has(id)) return;
    seen.add(id);
    facets.push({ kind, key, value, num });
  };

  const metadata = asRecord(doc.metadata) ?? {};
  const analysis = asRecord(doc.analysis) ?? {};
  const clientData = asRecord(doc.conversation_initiation_client_data) ?? {};

  // Tool calls: a name counts as "used" when the tool actually ran; `tool_any` also keeps calls
  // that never ran (the `include_invalid_tool_calls` switch).
  const calledByRequest = new Map<string, string>();
  for (const entry of asArray(doc.transcript)) {
    const turn = asRecord(entry);
    if (!turn) continue;
    for (const c of asArray(turn.tool_calls)) {
      const call = asRecord(c);
      const name = asString(call?.tool_name);
      if (!call || name === null) continue;
      add("tool_any", "", name);
      if (call.tool_has_been_called !== false) add("tool", "", name);
      const requestId = asString(call.request_id);
      if (requestId !== null) calledByRequest.set(requestId, name);
    }
    for (const r of asArray(turn.tool_results)) {
      const result = asRecord(r);
      const name = asString(result?.tool_name);
      if (!result || name === null) continue;
      add("tool_any", "", name);
      if (result.tool_has_been_called !== false) add("tool", "", name);
      add(result.is_error === true ? "tool_err" : "tool_ok", "", name);
    }
    for (const g of asArray(turn.triggered_guardrails)) addGuardrail(add, g);
    const agentMeta = asRecord(turn.agent_metadata);
    const node = asString(agentMeta?.workflow_node_id);
    if (node !== null) add("workflow_node", "", node);
  }
  for (const g of asArray(metadata.triggered_guardrails)) addGuardrail(add, g);

  for (const v of asArray(doc.visited_agents)) {
    const ref = asRecord(v);
    const agentId = asString(ref?.agent_id);
    if (agentId !== null) add("visited_agent", "", agentId);
    const branchId = asString(ref?.branch_id);
    if (branchId !== null) add("visited_branch", "", branchId);
  }
  const agentId = asString(doc.agent_id);
  if (agentId !== null) add("visited_agent", "", agentId);
  const branchId = asString(doc.branch_id);
  if (branchId !== null) add("visited_branch", "", branchId);

  for (const t of asArray(doc.tag_ids)) if (typeof t === "string") add("tag", "", t);
  for (const t of asArray(doc.topic_ids)) if (typeof t === "string") add("topic", "", t);
  for (const key of deriveReferenceKeys(doc)) add("reference", "", key);

  const termination = asString(metadata.termination_reason);
  if (termination !== null) add("termination_reason", "", termination);

  const evaluations = asRecord(analysis.evaluation_criteria_results) ?? {};
  for (const [id, r] of Object.entries(evaluations)) {
    const result = asString(asRecord(r)?.result);
    if (result !== null) add("eval", id, result);
  }
  const collected = asRecord(analysis.data_collection_results) ?? {};
  for (const [id, r] of Object.entries(collected)) {
    const value = asRecord(r)?.value;
    if (value !== undefined && value !== null) add("data", id, value);
  }
  const dynamicVariables = asRecord(clientData.dynamic_variables) ?? {};
  for (const [name, value] of Object.entries(dynamicVariables)) {
    if (value !== undefined && value !== null) add("dynvar", name, value);
  }
  return facets;
}

function addGuardrail(add: (kind: FacetKind, key: string, raw: unknown) => void, raw: unknown): void {
  const g = asRecord(raw);
  const type = asString(g?.guardrail_type);
  if (type !== null) add("guardrail_type", "", type);
  const name = asString(g?.guardrail_name);
  if (name !== null) add("guardrail_name", "", name);
}

/** Derives the scalar index fields of a document. The document must already be validated. */
export function deriveIndex(doc: ConversationDoc): ConversationIndex {
  const metadata = asRecord(doc.metadata) ?? {};
  const analysis = asRecord(doc.analysis) ?? {};
  const feedback = asRecord(metadata.feedback) ?? {};
  const clientData = asRecord(doc.conversation_initiation_client_data) ?? {};
  const comment = asString(feedback.comment);
  return {
    conversationId: String(doc.conversation_id),
    agentId: String(doc.agent_id),
    status: String(doc.status),
    startTime: asNumber(metadata.start_time_unix_secs) ?? 0,
    duration: asNumber(metadata.call_duration_secs) ?? 0,
    callSuccessful: asString(analysis.call_successful) ?? "unknown",
    userId: asString(doc.user_id) ?? asString(clientData.user_id),
    branchId: asString(doc.branch_id),
    versionId: asString(doc.version_id),
    mainLanguage: asString(metadata.main_language),
    initiationSource: asString(metadata.conversation_initiation_source),
    textOnly: typeof metadata.text_only === "boolean" ? metadata.text_only : null,
    rating: asNumber(feedback.rating),
    hasFeedbackComment: comment !== null && comment.trim().length > 0,
    parentConversationId: asString(doc.parent_conversation_id) ?? asString(metadata.parent_conversation_id),
    conversationProduct: asString(doc.conversation_product),
  };
}

/** Builds the list item (ConversationSummaryResponseModel) of a document, without `transcript_summary`. */
export function buildListItem(
  doc: ConversationDoc,
  index: ConversationIndex,
  facets: readonly Facet[],
): Record<string, unknown> {
  const metadata = asRecord(doc.metadata) ?? {};
  const analysis = asRecord(doc.analysis) ?? {};
  const phoneCall = asRecord(metadata.phone_call);
  const toolNames = facets.filter((f) => f.kind === "tool").map((f) => f.value);
  const item: Record<string, unknown> = {
    agent_id: index.agentId,
    conversation_id: index.conversationId,
    start_time_unix_secs: index.startTime,
    call_duration_secs: index.duration,
    message_count: countMessages(doc),
    status: index.status,
    call_successful: index.callSuccessful,
  };
  const optional: Record<string, unknown> = {
    branch_id: index.branchId,
    version_id: index.versionId,
    agent_name: asString(doc.agent_name),
    termination_reason: asString(metadata.termination_reason),
    call_success_score: asNumber(analysis.call_success_score),
    call_summary_title: asString(analysis.call_summary_title),
    main_language: index.mainLanguage,
    conversation_initiation_source: index.initiationSource,
    tool_names: toolNames.length > 0 ? toolNames : null,
    direction: asString(phoneCall?.direction),
    rating: index.rating,
    sentiment_analysis: asRecord(analysis.sentiment_analysis) ?? null,
    tag_ids: Array.isArray(doc.tag_ids) ? doc.tag_ids.filter((t) => typeof t === "string") : null,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== null) item[key] = value;
  return item;
}

/** Picks the per-criterion results shown by the list's `evaluation_criteria_ids` projection. */
function summariseEvaluations(analysis: Record<string, unknown>): Record<string, unknown> | null {
  const results = asRecord(analysis.evaluation_criteria_results);
  if (!results) return null;
  const out: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(results)) {
    const result = asRecord(r);
    if (!result) continue;
    const summary: Record<string, unknown> = { result: result.result };
    if (result.score !== undefined && result.score !== null) summary.score = result.score;
    if (result.max_score !== undefined && result.max_score !== null) summary.max_score = result.max_score;
    out[id] = summary;
  }
  return out;
}

/** Picks the per-field values shown by the list's `data_collection_ids` projection. */
function summariseDataCollection(analysis: Record<string, unknown>): Record<string, unknown> | null {
  const results = asRecord(analysis.data_collection_results);
  if (!results) return null;
  const out: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(results)) out[id] = asRecord(r)?.value ?? null;
  return out;
}

/** Collects the text full-text search looks in: every transcript message, then the summary. */
export function buildSearchText(doc: ConversationDoc): string {
  const parts: string[] = [];
  for (const entry of asArray(doc.transcript)) {
    const turn = asRecord(entry);
    const message = asString(turn?.message);
    if (message) parts.push(message);
    for (const part of asArray(asRecord(turn?.multivoice_message)?.parts)) {
      const text = asString(asRecord(part)?.text);
      if (text && text !== message) parts.push(text);
    }
  }
  const summary = asString(asRecord(doc.analysis)?.transcript_summary);
  if (summary) parts.push(summary);
  // U+0000 ends a string for SQLite's LIKE; it is no word character anyway.
  return parts.join("\n").replaceAll("\u0000", " ");
}

/** Returns the document without the keys the server owns. */
export function stripServerOwnedKeys(doc: ConversationDoc): ConversationDoc {
  const out: ConversationDoc = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!(SERVER_OWNED_KEYS as readonly string[]).includes(key)) out[key] = value;
  }
  return out;
}

/** Turns a validated document into the record a store writes. */
export function buildConversationRecord(doc: ConversationDoc): ConversationRecord {
  const stored = stripServerOwnedKeys(doc);
  const index = deriveIndex(stored);
  const analysis = asRecord(stored.analysis) ?? {};
  const evaluations = summariseEvaluations(analysis);
  const collected = summariseDataCollection(analysis);
  const facets = deriveFacets(stored);
  return {
    index,
    json: JSON.stringify(stored),
    listItemJson: JSON.stringify(buildListItem(stored, index, facets)),
    transcriptSummary: asString(analysis.transcript_summary),
    evaluationResultsJson: evaluations ? JSON.stringify(evaluations) : null,
    dataCollectionResultsJson: collected ? JSON.stringify(collected) : null,
    facets,
    searchText: buildSearchText(stored),
  };
}

/** Flags describing the audio this server holds for a conversation. */
export interface AudioFlags {
  hasAudio: boolean;
}

const AUDIO_TAILS = {
  with: Buffer.from(
    ',"has_audio":true,"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}',
  ),
  without: Buffer.from(
    ',"has_audio":false,"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}',
  ),
};

/** `renderStoredDocument` on UTF-8 bytes: one copy, no decoding. */
export function renderStoredBytes(bytes: Buffer, audio: AudioFlags): Buffer {
  if (bytes.length <= 2) return Buffer.from(renderStoredDocument(bytes.toString("utf8"), audio));
  const tail = audio.hasAudio ? AUDIO_TAILS.with : AUDIO_TAILS.without;
  return Buffer.concat([bytes.subarray(0, bytes.length - 1), tail], bytes.length - 1 + tail.length);
}

/**
 * Serves a stored document: appends the server-owned keys to the stored JSON text without
 * parsing it (the stored text never holds them, and always ends with `}`).
 */
export function renderStoredDocument(json: string, audio: AudioFlags): string {
  const tail = `"has_audio":${audio.hasAudio},"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}`;
  return json.length > 2 ? `${json.slice(0, -1)},${tail}` : `{${tail}`;
}
