import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { ConversationDoc, ConversationRecord } from "../domain/conversation.js";
import { buildConversationRecord } from "../domain/conversation-record.js";
import type { ValidationIssue } from "../domain/errors.js";
import { unstorableIdReason } from "../domain/id-length.js";
import { checkJsonValue, holdsAtMost } from "./parse-json.js";
import {
  type IssueLocation,
  LONE_SURROGATE_MESSAGE,
  limitIssues,
  MAX_ISSUES,
  NO_NUL_MESSAGE,
  pointerAndAncestors,
  pointerPath,
  toValidationIssue,
} from "./validation-issues.js";
import wireSchemas from "./wire-schemas.json" with { type: "json" };

type Schema = Record<string, unknown>;

/** Whether a schema is exactly `{"type": "null"}`, the SDK's way of making a reference or literal optional. */
function isNullSchema(node: unknown): boolean {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return false;
  const keys = Object.keys(node);
  return keys.length === 1 && (node as Schema).type === "null";
}

/**
 * Rewrites the SDK's wire schemas so they accept exactly what the SDK accepts, and so that a
 * failing document gets one error per problem:
 * - enums are dropped (the SDK tolerates unknown enum values);
 * - discriminated unions become "if the tag is there and known, the body must match that member"
 *   (the SDK passes unknown discriminator values through; a missing tag is the `required` error);
 * - `anyOf: [X, {type: null}]` becomes "if null, fine, else X", so a wrong value reports X's
 *   errors without a "must be null" beside them;
 * - references are made absolute (`wire#/$defs/…`), so a union member compiles on its own.
 */
function relax(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relax);
  if (node === null || typeof node !== "object") return node;
  const schema = node as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "enum" || key === "x-discriminator" || key === "title" || key === "description") continue;
    if (key === "oneOf" && schema["x-discriminator"]) continue;
    if (key === "$ref" && typeof value === "string" && value.startsWith("#/")) {
      out.$ref = `wire${value}`;
      continue;
    }
    if (key === "anyOf" && Array.isArray(value) && value.some(isNullSchema)) {
      const others = value.filter((branch) => !isNullSchema(branch));
      out.if = { type: "null" };
      out.else = others.length === 1 ? relax(others[0]) : { anyOf: others.map(relax) };
      continue;
    }
    out[key] = relax(value);
  }
  const discriminator = schema["x-discriminator"] as
    | { propertyName: string; mapping: Record<string, string> }
    | undefined;
  if (discriminator && Array.isArray(schema.oneOf)) {
    out.allOf = Object.entries(discriminator.mapping).map(([tag, ref]) => ({
      if: {
        properties: { [discriminator.propertyName]: { const: tag } },
        required: [discriminator.propertyName],
      },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword.
      then: { $ref: `wire${ref}` },
    }));
  }
  return out;
}

const WIRE = { $id: "wire", $defs: relax((wireSchemas as { $defs: unknown }).$defs) };
const ROOT = { $ref: "wire#/$defs/GetConversationResponseModel" };

// The hot path: stops at the first error, so a valid document costs what it always did.
const fastAjv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
fastAjv.addSchema(WIRE);
const validateConversation = fastAjv.compile(ROOT);

/**
 * The validator that lists every error (and, `verbose`, the schema and value of each), compiled
 * the first time a document fails, since only a failing document needs it.
 */
let detailedAjv: Ajv | undefined;
const detailedValidators = new Map<string, ValidateFunction>();
const detailedBySchema = new WeakMap<object, ValidateFunction>();

/** The detailed validator of a schema (the document's root, or a union member), compiled once. */
function detailedValidator(schema: unknown): ValidateFunction {
  const cacheable = schema !== null && typeof schema === "object";
  const known = cacheable ? detailedBySchema.get(schema) : undefined;
  if (known) return known;
  // Keyed by the schema's text too: the same member can reach here as different objects.
  const key = JSON.stringify(schema);
  let validate = detailedValidators.get(key);
  if (!validate) {
    if (!detailedAjv) {
      detailedAjv = new Ajv({ strict: false, allErrors: true, verbose: true, validateFormats: false });
      detailedAjv.addSchema(WIRE);
    }
    validate = detailedAjv.compile(schema as Schema);
    detailedValidators.set(key, validate);
  }
  if (cacheable) detailedBySchema.set(schema, validate);
  return validate;
}

const DEFS = WIRE.$defs as Record<string, Schema>;

/** The schema a reference or a nullable wrapper (`if` null, `else` …) stands for. */
function resolveSchema(schema: unknown): Schema | undefined {
  let node = schema as Schema | undefined;
  for (let hops = 0; hops < 16 && node && typeof node === "object"; hops++) {
    if (typeof node.$ref === "string") node = DEFS[node.$ref.slice("wire#/$defs/".length)];
    else if (node.if !== undefined && node.else !== undefined && Object.keys(node).length === 2) {
      node = node.else as Schema;
    } else return node;
  }
  return undefined;
}

/**
 * How many values (objects, lists, and what they hold) a value may hold to be checked whole in one
 * Ajv pass (a typical document does); a larger one is checked part by part (see collectIssues).
 */
const CHECK_WHOLE_VALUES = 2000;

/** A key of an object whose value (an object or a list) is checked apart, and its schema. */
interface Part {
  key: string;
  schema: unknown;
}

/**
 * The keys of an object, described by its schema (a property, or the schema of a map's entries),
 * whose values are objects or lists: each is checked apart from the object (see collectIssues).
 */
function partsToCheckApart(schema: unknown, data: unknown): Part[] {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return [];
  const resolved = resolveSchema(schema);
  const properties = resolved?.properties as Record<string, unknown> | undefined;
  const entries = resolved?.additionalProperties;
  const entrySchema = entries !== null && typeof entries === "object" ? entries : undefined;
  if (!properties && !entrySchema) return [];
  const parts: Part[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value === null || typeof value !== "object") continue;
    const part = properties && Object.hasOwn(properties, key) ? properties[key] : entrySchema;
    if (part !== undefined) parts.push({ key, schema: part });
  }
  return parts;
}

/**
 * Lists what is wrong with `data` under `schema`, one issue per problem. Ajv reports a failed
 * union (`anyOf`) with the errors of every member; here the value is checked against each member
 * on its own and the member with the fewest issues (the first of equals) stands for the union,
 * as the closest reading of what was meant. Issues come in schema order, repeats dropped. In an
 * object holding more than CHECK_WHOLE_VALUES values, the nested objects and lists are checked
 * apart (a list item by item) and the work stops at MAX_ISSUES, so a document with thousands of
 * problems costs about as much as one with a hundred. `apart: false` checks the object whole.
 */
function collectIssues(
  schema: unknown,
  data: unknown,
  prefix: IssueLocation,
  apart = true,
): ValidationIssue[] {
  const parts = apart && !holdsAtMost(data, CHECK_WHOLE_VALUES) ? partsToCheckApart(schema, data) : [];
  if (parts.length > 0) {
    // The object with an empty value in place of each part, then each part on its own (a list item
    // by item), until MAX_ISSUES are found: Ajv gathers the errors of failing items into one array
    // copied at each item, quadratic in a long list (a transcript, a map of results).
    const object = data as Record<string, unknown>;
    const shallow: Record<string, unknown> = { ...object };
    for (const { key } of parts) shallow[key] = Array.isArray(object[key]) ? [] : {};
    const apartKeys = new Set(parts.map((p) => p.key));
    // What the empty stand-ins got is dropped: the parts' own checks say what is wrong with them.
    const issues = collectIssues(schema, shallow, prefix, false).filter(
      (issue) => issue.loc.length <= prefix.length || !apartKeys.has(String(issue.loc[prefix.length])),
    );
    for (const { key, schema: partSchema } of parts) {
      if (issues.length >= MAX_ISSUES) break;
      const value = object[key];
      const items = Array.isArray(value) ? resolveSchema(partSchema)?.items : undefined;
      if (!Array.isArray(value) || items === undefined) {
        issues.push(...collectIssues(partSchema, value, [...prefix, key]));
        continue;
      }
      for (const [i, item] of value.entries()) {
        if (issues.length >= MAX_ISSUES) break;
        issues.push(...collectIssues(items, item, [...prefix, key, i]));
      }
    }
    return limitIssues(issues);
  }
  const validate = detailedValidator(schema);
  if (validate(data)) return [];
  // Copied: checking a union's members below runs validators again (this one too, for nested unions).
  const errors = [...(validate.errors ?? [])];
  // The failed unions by location (the first at each); an inner one is weighed again when its
  // member is checked, so each error belongs to the outermost union around it, if any.
  const unions = new Map<string, ErrorObject>();
  for (const e of errors)
    if (e.keyword === "anyOf" && !unions.has(e.instancePath)) unions.set(e.instancePath, e);
  const outerUnion = (pointer: string): ErrorObject | undefined => {
    if (unions.size === 0) return undefined;
    for (const at of pointerAndAncestors(pointer)) {
      const union = unions.get(at);
      if (union) return union;
    }
    return undefined;
  };
  const issues: ValidationIssue[] = [];
  const done = new Set<ErrorObject>();
  for (const error of errors) {
    if (issues.length >= MAX_ISSUES) break;
    const union = outerUnion(error.instancePath);
    if (union === undefined) {
      // `if` says only that its `then`/`else` failed, whose own errors are listed.
      if (error.keyword !== "if") issues.push(toValidationIssue(error, prefix, "strict"));
    } else if (!done.has(union)) {
      done.add(union);
      issues.push(...closestMemberIssues(union, prefix));
    }
  }
  return limitIssues(issues);
}

/** The issues of a failed union: those of the member the value comes closest to matching. */
function closestMemberIssues(union: ErrorObject, prefix: IssueLocation): ValidationIssue[] {
  const at = [...prefix, ...pointerPath(union.instancePath)];
  let best: ValidationIssue[] | undefined;
  for (const member of Array.isArray(union.schema) ? union.schema : []) {
    const issues = collectIssues(member, union.data, at);
    if (best === undefined || issues.length < best.length) best = issues;
  }
  return best ?? [{ loc: at, msg: "Input should match one of the accepted shapes", type: "union" }];
}

/**
 * Checks a conversation document against the SDK's GetConversationResponseModel, so that what
 * is stored is always something the SDK can read back. Returns the issues, empty when valid:
 * every problem, one issue each, at most MAX_ISSUES.
 */
export function checkConversationDocument(doc: unknown, prefix: IssueLocation = ["body"]): ValidationIssue[] {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return [{ loc: prefix, msg: "Input should be a valid dictionary or object", type: "dict_type" }];
  }
  if (validateConversation(doc)) return [];
  // The document is checked strictly: a wrong JSON type is `*_type`, never `*_parsing`.
  return collectIssues(ROOT, doc, prefix);
}

/** Prepares an incoming document: the id from the path wins, and the server fills its own `has_*` keys. */
export function prepareIncomingDocument(
  doc: ConversationDoc,
  conversationId: string | undefined,
): ConversationDoc {
  const out: ConversationDoc = { ...doc };
  if (conversationId !== undefined) out.conversation_id = conversationId;
  out.has_audio = false;
  out.has_user_audio = false;
  out.has_response_audio = false;
  out.has_auxiliary_audio = false;
  return out;
}

/** The outcome of checking one incoming document: a record ready to write, or what is wrong with it. */
export type CheckedDocument =
  | { ok: true; record: ConversationRecord }
  | { ok: false; issues: ValidationIssue[] };

/**
 * Validates an incoming document (the path id, when given, wins over the body's) and builds the
 * record a store writes. Pure and synchronous: the conversation service calls it for every write,
 * and the importer's worker thread calls it for each line. Whatever parsed it (a request body, an
 * import line, a webhook, sync), a number that is not finite or nesting deeper than MAX_JSON_DEPTH
 * is refused here: the record's JSON.stringify could not handle them. Nesting too deep stops the
 * check there (the schema check recurses); numbers that are not finite are listed with the rest.
 * Every problem is listed, at most MAX_ISSUES.
 */
export function checkIncomingDocument(
  doc: unknown,
  conversationId: string | undefined,
  prefix: IssueLocation = ["body"],
): CheckedDocument {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return {
      ok: false,
      issues: [{ loc: prefix, msg: "Input should be a valid dictionary or object", type: "dict_type" }],
    };
  }
  const unsafe = checkJsonValue(doc, prefix);
  if (unsafe.some((issue) => issue.type === "too_deep")) return { ok: false, issues: unsafe };
  const prepared = prepareIncomingDocument(doc as ConversationDoc, conversationId);
  const issues = [...unsafe, ...checkConversationDocument(prepared, prefix)];
  const id = prepared.conversation_id;
  if (typeof id === "string" && id.length === 0) {
    issues.push({
      loc: [...prefix, "conversation_id"],
      msg: "String should have at least 1 character",
      type: "string_too_short",
    });
  }
  // No backend stores U+0000 or a lone surrogate as it is: the same answer on every backend.
  const unstorable = typeof id === "string" ? unstorableIdReason(id) : undefined;
  if (unstorable !== undefined) {
    issues.push({
      loc: [...prefix, "conversation_id"],
      msg: unstorable === "nul" ? NO_NUL_MESSAGE : LONE_SURROGATE_MESSAGE,
      type: "string_pattern_mismatch",
    });
  }
  return issues.length > 0
    ? { ok: false, issues: limitIssues(issues) }
    : { ok: true, record: buildConversationRecord(prepared) };
}
