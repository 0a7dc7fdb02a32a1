/**
 * The one mapping from Ajv's errors to FastAPI-style validation issues (upstream's 422 `detail`),
 * used for request schemas (src/api/) and for conversation documents (document-validator.ts).
 *
 * Type names follow pydantic, which upstream's FastAPI reports:
 * - `missing`, `string_too_short`/`string_too_long`, `string_pattern_mismatch`, `too_long` (a
 *   list), `greater_than_equal`/`less_than_equal`, `finite_number` (the `finite` keyword of
 *   src/api/path-params.ts), `enum`; any other keyword is reported under its own name.
 * - A value of the wrong type depends on how the value was read:
 *   - `lax` (request parameters and bodies: Fastify's Ajv coerces text to numbers and booleans,
 *     as FastAPI does, and query, path and header values are always text): an integer, number or
 *     boolean that fails is text that could not be read as one, `int_parsing`/`float_parsing`/
 *     `bool_parsing`;
 *   - `strict` (a conversation document, checked as the SDK will read it, with no coercion): the
 *     JSON value is of another kind, `int_type`/`float_type`/`bool_type`.
 *   Strings, lists, objects and null are never coerced to, so they are `string_type`,
 *   `list_type`, `dict_type` and `none_required` either way.
 */
import type { ErrorObject } from "ajv";
import type { ValidationIssue } from "../domain/errors.js";

/** How the values were validated (see the module comment). */
export type ValidationMode = "lax" | "strict";

/** An issue's location: where the value came from (`body`, `query`, …), then the path inside it. */
export type IssueLocation = (string | number)[];

/**
 * How many issues one 422 (or one bad import line, or one dead letter) lists at most. FastAPI lists
 * every issue; a document with thousands of problems is cut here, so the answer stays small.
 */
export const MAX_ISSUES = 100;

/**
 * The pattern of an id: no U+0000 (PostgreSQL text cannot hold it). Ajv compiles patterns with the
 * `u` flag, so `\u0000` is read as the NUL character.
 */
export const NO_NUL_PATTERN = "^[^\\u0000]*$";

/** What an id with a NUL in it is answered with. */
export const NO_NUL_MESSAGE = "String should not contain the NUL character (U+0000): remove it from the id";

/** What an id with a lone UTF-16 surrogate in it is answered with. */
export const LONE_SURROGATE_MESSAGE =
  "String should be well-formed Unicode: the id holds a lone UTF-16 surrogate (a \\uD800–\\uDFFF escape without its pair)";

/** pydantic's name and message for each JSON Schema type, and its `_parsing` form where text is coerced. */
const TYPES: Record<string, { type: string; msg: string; parsing?: { type: string; msg: string } }> = {
  integer: {
    type: "int_type",
    msg: "Input should be a valid integer",
    parsing: {
      type: "int_parsing",
      msg: "Input should be a valid integer, unable to parse string as an integer",
    },
  },
  number: {
    type: "float_type",
    msg: "Input should be a valid number",
    parsing: {
      type: "float_parsing",
      msg: "Input should be a valid number, unable to parse string as a number",
    },
  },
  boolean: {
    type: "bool_type",
    msg: "Input should be a valid boolean",
    parsing: { type: "bool_parsing", msg: "Input should be a valid boolean, unable to interpret input" },
  },
  string: { type: "string_type", msg: "Input should be a valid string" },
  array: { type: "list_type", msg: "Input should be a valid list" },
  object: { type: "dict_type", msg: "Input should be a valid dictionary or object" },
  null: { type: "none_required", msg: "Input should be None" },
};

/** Splits a JSON pointer (Ajv's `instancePath`) into path segments; array indexes become numbers. */
export function pointerPath(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** The JSON pointers a pointer is inside of, outermost first, and itself last (`/a/0` → ``, `/a`, `/a/0`). */
export function pointerAndAncestors(pointer: string): string[] {
  const out = [""];
  for (let i = pointer.indexOf("/", 1); i !== -1; i = pointer.indexOf("/", i + 1))
    out.push(pointer.slice(0, i));
  if (pointer !== "") out.push(pointer);
  return out;
}

/** "1 character", "2 characters". */
function plural(n: unknown, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Maps one Ajv error to an issue located under `prefix`. */
export function toValidationIssue(
  error: ErrorObject,
  prefix: IssueLocation,
  mode: ValidationMode,
): ValidationIssue {
  const loc = [...prefix, ...pointerPath(error.instancePath)];
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { loc: [...loc, String(params.missingProperty)], msg: "Field required", type: "missing" };
    case "type": {
      // A nullable type fails as its non-null part ("number,null" is reported as a number).
      const expected = String(params.type).split(",")[0] ?? "";
      const known = TYPES[expected];
      if (!known) return { loc, msg: `Input should be of type ${expected}`, type: "type_error" };
      const shown = mode === "lax" && known.parsing ? known.parsing : known;
      return { loc, msg: shown.msg, type: shown.type };
    }
    case "maximum":
      return { loc, msg: `Input should be less than or equal to ${params.limit}`, type: "less_than_equal" };
    case "minimum":
      return {
        loc,
        msg: `Input should be greater than or equal to ${params.limit}`,
        type: "greater_than_equal",
      };
    case "maxLength":
      return {
        loc,
        msg: `String should have at most ${plural(params.limit, "character")}`,
        type: "string_too_long",
      };
    case "minLength":
      return {
        loc,
        msg: `String should have at least ${plural(params.limit, "character")}`,
        type: "string_too_short",
      };
    case "maxItems":
      return { loc, msg: `List should have at most ${params.limit} items`, type: "too_long" };
    case "pattern":
      return params.pattern === NO_NUL_PATTERN
        ? { loc, msg: NO_NUL_MESSAGE, type: "string_pattern_mismatch" }
        : { loc, msg: `String should match pattern '${params.pattern}'`, type: "string_pattern_mismatch" };
    case "finite":
      return { loc, msg: "Input should be a finite number", type: "finite_number" };
    case "enum":
      return {
        loc,
        msg: `Input should be ${(params.allowedValues as unknown[]).map((v) => `'${v}'`).join(", ")}`,
        type: "enum",
      };
    default:
      return { loc, msg: error.message ?? "Invalid value", type: error.keyword };
  }
}

/** Drops repeated issues (the same location and type) and keeps at most MAX_ISSUES, in order. */
export function limitIssues(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    if (out.length >= MAX_ISSUES) break;
    const key = JSON.stringify([issue.loc, issue.type]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}

/**
 * Maps Ajv errors to issues located under `prefix` (see the module comment for the names): one
 * per problem, repeats dropped, at most MAX_ISSUES. Only the first MAX_ISSUES errors are read, so
 * a list of millions (an all-errors validator on a huge value) never becomes millions of issues.
 */
export function toValidationIssues(
  errors: readonly ErrorObject[],
  prefix: IssueLocation,
  mode: ValidationMode,
): ValidationIssue[] {
  return limitIssues(errors.slice(0, MAX_ISSUES).map((error) => toValidationIssue(error, prefix, mode)));
}
