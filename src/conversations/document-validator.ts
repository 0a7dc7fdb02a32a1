import { Ajv } from "ajv";
import type { ConversationDoc, ConversationRecord } from "../domain/conversation.js";
import { buildConversationRecord } from "../domain/conversation-record.js";
import type { ValidationIssue } from "../domain/errors.js";
import { unstorableIdReason } from "../domain/id-length.js";
import { checkJsonValue } from "./parse-json.js";
import {
  type IssueLocation,
  LONE_SURROGATE_MESSAGE,
  NO_NUL_MESSAGE,
  toValidationIssues,
} from "./validation-issues.js";
import wireSchemas from "./wire-schemas.json" with { type: "json" };

type Schema = Record<string, unknown>;

/**
 * Rewrites the SDK's wire schemas so they accept exactly what the SDK accepts:
 * - enums are dropped (the SDK tolerates unknown enum values);
 * - discriminated unions become "if the tag is known, the body must match that member"
 *   (the SDK passes unknown discriminator values through).
 */
function relax(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relax);
  if (node === null || typeof node !== "object") return node;
  const schema = node as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "enum" || key === "x-discriminator" || key === "title" || key === "description") continue;
    if (key === "oneOf" && schema["x-discriminator"]) continue;
    out[key] = relax(value);
  }
  const discriminator = schema["x-discriminator"] as
    | { propertyName: string; mapping: Record<string, string> }
    | undefined;
  if (discriminator && Array.isArray(schema.oneOf)) {
    out.allOf = Object.entries(discriminator.mapping).map(([tag, ref]) => ({
      if: { properties: { [discriminator.propertyName]: { const: tag } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword.
      then: { $ref: ref },
    }));
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
ajv.addSchema({ $id: "wire", $defs: relax((wireSchemas as { $defs: unknown }).$defs) });

const validateConversation = ajv.compile({ $ref: "wire#/$defs/GetConversationResponseModel" });

/**
 * Checks a conversation document against the SDK's GetConversationResponseModel, so that what
 * is stored is always something the SDK can read back. Returns the issues, empty when valid.
 */
export function checkConversationDocument(doc: unknown, prefix: IssueLocation = ["body"]): ValidationIssue[] {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return [{ loc: prefix, msg: "Input should be a valid dictionary or object", type: "dict_type" }];
  }
  if (validateConversation(doc)) return [];
  const errors = (validateConversation.errors ?? []).filter(
    (e) => e.keyword !== "if" && e.keyword !== "anyOf",
  );
  const shown = errors.length > 0 ? errors : (validateConversation.errors ?? []);
  // The document is checked strictly: a wrong JSON type is `*_type`, never `*_parsing`.
  return toValidationIssues(shown.slice(0, 20), prefix, "strict");
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
 * is refused here first: the schema check and the record's JSON.stringify could not handle them.
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
  if (unsafe.length > 0) return { ok: false, issues: unsafe };
  const prepared = prepareIncomingDocument(doc as ConversationDoc, conversationId);
  const issues = checkConversationDocument(prepared, prefix);
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
  return issues.length > 0 ? { ok: false, issues } : { ok: true, record: buildConversationRecord(prepared) };
}
