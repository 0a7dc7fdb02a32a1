/**
 * An agent's document and its wire forms. The document is what the client sent, snake_case end to
 * end (it is stored and served as JSON, so no camelCase form exists); the server adds only what
 * the SDK requires and the client did not send (see docs/agents.md).
 */
import type { AgentRow } from "../store/agent-store.js";

/** A stored agent document: the create body as sent, with later PATCHes merged in. */
export type AgentDocument = Record<string, unknown>;

/** The keys the server owns: never stored from a body, always rendered from the row. */
export const SERVER_OWNED_KEYS = ["agent_id", "metadata"] as const;

/** The name an agent without one is given on the wire (the SDK requires `name`). */
export const DEFAULT_AGENT_NAME = "";

/** The voice a list item names when the agent sets none: upstream's default agent voice. */
export const DEFAULT_VOICE_ID = "cjVigY5qzO86Huf0OWal";

/**
 * The `access_info` of a list item (required there by the SDK). One server is one workspace and
 * API keys are not users, so every caller is the agent's creator, as an admin.
 */
export const ACCESS_INFO = { is_creator: true, creator_name: "", creator_email: "", role: "admin" } as const;

/**
 * What GET fills in `workflow` (the SDK's AgentWorkflowResponseModel requires these; the request
 * model does not): an agent without edges, nodes or loop prevention set has none of them.
 */
export const WORKFLOW_DEFAULTS = { edges: {}, nodes: {}, prevent_subagent_loops: false } as const;

/** Whether a JSON value is an object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Sets an own key, even `__proto__` (which `out[key] = value` would take as the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Merges a PATCH into a document, as upstream does: objects merge key by key, recursively; an
 * array, a scalar or null replaces what was there (null is stored as null, it does not delete the
 * key); keys the patch does not name stay as they were. Neither argument is changed.
 */
export function mergeAgentPatch(base: unknown, patch: unknown): unknown {
  if (!isJsonObject(base) || !isJsonObject(patch)) return patch;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(base));
  for (const [key, value] of Object.entries(patch)) {
    setOwn(out, key, Object.hasOwn(out, key) ? mergeAgentPatch(out[key], value) : value);
  }
  return out;
}

/** A body without the server-owned keys (and the other keys named), keys in their order. */
export function withoutKeys(body: Record<string, unknown>, keys: readonly string[]): AgentDocument {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !keys.includes(key)));
}

/**
 * An object with the defaults added for the keys it lacks (or holds null for): the client's keys
 * keep their values and their order, the defaults come after them. Anything else is returned as is.
 */
export function fillMissing(value: unknown, defaults: Record<string, unknown>): unknown {
  if (!isJsonObject(value)) return value;
  const missing = Object.entries(defaults).filter(
    ([key]) => !Object.hasOwn(value, key) || value[key] === null,
  );
  if (missing.length === 0) return value;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(value));
  for (const [key, fill] of missing) setOwn(out, key, fill);
  return out;
}

/** The agent's name as the SDK reads it. */
export function agentName(doc: AgentDocument): string {
  return typeof doc.name === "string" ? doc.name : DEFAULT_AGENT_NAME;
}

/** The stored document of a row. */
export function parseAgentDocument(row: AgentRow): AgentDocument {
  return JSON.parse(row.json) as AgentDocument;
}

/**
 * The GET answer (the SDK's GetAgentResponseModel): `agent_id` first, then the document's keys as
 * stored (a missing or null `name` becomes DEFAULT_AGENT_NAME, a `workflow` gets WORKFLOW_DEFAULTS
 * for what it lacks), then the server's `metadata`.
 */
export function renderAgent(row: AgentRow): Record<string, unknown> {
  const doc = parseAgentDocument(row);
  const filled: Record<string, unknown> = { agent_id: row.agentId, ...doc, name: agentName(doc) };
  if (Object.hasOwn(doc, "workflow")) filled.workflow = fillMissing(doc.workflow, WORKFLOW_DEFAULTS);
  filled.metadata = {
    created_at_unix_secs: row.createdAtUnixSecs,
    updated_at_unix_secs: row.updatedAtUnixSecs,
  };
  return filled;
}

/** A value at a path of objects, or undefined. */
function pick(doc: unknown, ...path: string[]): unknown {
  let at = doc;
  for (const key of path) at = isJsonObject(at) && Object.hasOwn(at, key) ? at[key] : undefined;
  return at;
}

/** A list item (the SDK's AgentSummaryResponseModel), with the defaults its required keys need. */
export function renderAgentSummary(row: AgentRow): Record<string, unknown> {
  const doc = parseAgentDocument(row);
  const voiceId = pick(doc, "conversation_config", "tts", "voice_id");
  const archived = pick(doc, "platform_settings", "archived");
  return {
    agent_id: row.agentId,
    name: agentName(doc),
    voice_id: typeof voiceId === "string" ? voiceId : DEFAULT_VOICE_ID,
    tags: Array.isArray(doc.tags) ? doc.tags : [],
    created_at_unix_secs: row.createdAtUnixSecs,
    access_info: ACCESS_INFO,
    archived: typeof archived === "boolean" ? archived : false,
  };
}
