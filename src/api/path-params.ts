/**
 * The path parameter schemas every route uses: one schema for an id, so an id is accepted (and
 * refused, as a 422 naming the parameter) the same way on every path.
 */
import { MAX_ID_LENGTH } from "../domain/id-length.js";

/** An id in a path (or a body, or a filter): a non-empty string of at most MAX_ID_LENGTH characters. */
export const ID_SCHEMA = { type: "string", minLength: 1, maxLength: MAX_ID_LENGTH } as const;

/** The schema of path parameters that are all ids, e.g. `idParams("conversation_id", "file_id")`. */
export function idParams(...names: string[]): Record<string, unknown> {
  return {
    type: "object",
    properties: Object.fromEntries(names.map((name) => [name, ID_SCHEMA])),
    required: names,
  };
}

/** `{conversation_id}`: the one schema of the conversation id in every path. */
export const conversationIdParams = idParams("conversation_id");

/** `{agent_id}`. */
export const agentIdParams = idParams("agent_id");

/** The parsed `{conversation_id}` parameter. */
export interface ConversationIdParam {
  conversation_id: string;
}

/** The parsed `{agent_id}` parameter. */
export interface AgentIdParam {
  agent_id: string;
}
