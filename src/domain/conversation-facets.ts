/**
 * Facets: the multi-valued facts of a document (tools used, agents visited, tags, evaluation
 * results, data collected, …) as index rows, for the list filters that match any of several values.
 */

import type { ConversationDoc, Facet, FacetKind } from "./conversation.js";
import { deriveReferenceKeys } from "./conversation-reference.js";
import { asArray, asRecord, asString } from "./json-value.js";

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
