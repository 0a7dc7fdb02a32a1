/**
 * The record a store writes for a document: the document as stored, its scalar index fields,
 * facets, list item, list projections and search text, all derived here once, at write time.
 */
import type { ConversationDoc, ConversationIndex, ConversationRecord, Facet } from "./conversation.js";
import { deriveFacets } from "./conversation-facets.js";
import { asArray, asNumber, asRecord, asString } from "./json-value.js";
import { foldForSearch } from "./search-fold.js";
import { stripServerOwnedKeys } from "./stored-document.js";

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

/** Counts the plain chat message turns: transcript entries that carry a non-empty message. */
export function countMessages(doc: ConversationDoc): number {
  let n = 0;
  for (const entry of asArray(doc.transcript)) {
    const message = asString(asRecord(entry)?.message);
    if (message !== null && message.length > 0) n++;
  }
  return n;
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
  // Entries, not `out[id] = …`: an id of `__proto__` stays a key (see stripServerOwnedKeys).
  const out: [string, Record<string, unknown>][] = [];
  for (const [id, r] of Object.entries(results)) {
    const result = asRecord(r);
    if (!result) continue;
    const summary: Record<string, unknown> = { result: result.result };
    if (result.score !== undefined && result.score !== null) summary.score = result.score;
    if (result.max_score !== undefined && result.max_score !== null) summary.max_score = result.max_score;
    out.push([id, summary]);
  }
  return Object.fromEntries(out);
}

/** Picks the per-field values shown by the list's `data_collection_ids` projection. */
function summariseDataCollection(analysis: Record<string, unknown>): Record<string, unknown> | null {
  const results = asRecord(analysis.data_collection_results);
  if (!results) return null;
  return Object.fromEntries(Object.entries(results).map(([id, r]) => [id, asRecord(r)?.value ?? null]));
}

/** Collects the text full-text search looks in, folded for search: every transcript message, then the summary. */
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
  return foldForSearch(parts.join("\n").replaceAll("\u0000", " "));
}
