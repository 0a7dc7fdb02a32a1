/**
 * The parameter schemas every route uses: one schema for an id, so an id is accepted (and
 * refused, as a 422 naming the parameter) the same way on every path; and the numbers of query
 * strings, which must be finite.
 */
import type { KeywordDefinition } from "ajv";
import { NO_NUL_PATTERN } from "../conversations/validation-issues.js";
import { MAX_ID_LENGTH } from "../domain/id-length.js";

/**
 * An id in a path (or a body, or a filter): a non-empty string of at most MAX_ID_LENGTH
 * characters, without U+0000 (which PostgreSQL text cannot hold: refused on every backend alike).
 */
export const ID_SCHEMA = {
  type: "string",
  minLength: 1,
  maxLength: MAX_ID_LENGTH,
  pattern: NO_NUL_PATTERN,
} as const;

/**
 * The `finite` schema keyword (registered with the request validator in app.ts). Query values
 * are text, and Ajv coerces text to a number with `+text`, so "Infinity", "-Infinity" and "1e400"
 * become numbers its `type`, `minimum` and `maximum` checks never look at again (they skip what
 * JSON cannot hold). This keyword checks the coerced value; it is reported as `finite_number`.
 */
export const FINITE_KEYWORD: KeywordDefinition = {
  keyword: "finite",
  schemaType: "boolean",
  errors: false,
  validate: (finite: boolean, data: unknown) => !finite || typeof data !== "number" || Number.isFinite(data),
};

/** Bounds and default of a numeric query parameter. */
interface NumberBounds {
  minimum?: number;
  maximum?: number;
  default?: number;
}

/** An integer query parameter (`page_size`, …): refuses non-finite values as well as out-of-range ones. */
export function integerParam<const B extends NumberBounds>(bounds: B) {
  return { type: "integer", ...bounds, finite: true } as const;
}

/** A number query parameter (a time, a duration, a rating): refuses non-finite values too. */
export function numberParam<const B extends NumberBounds>(bounds: B) {
  return { type: "number", ...bounds, finite: true } as const;
}

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
