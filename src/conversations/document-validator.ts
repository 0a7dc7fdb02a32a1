import { Ajv, type ErrorObject } from "ajv";
import type { ValidationIssue } from "../api/api-error.js";
import type { ConversationDoc } from "../domain/conversation.js";
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

/** Renders one Ajv error as a FastAPI-style validation issue located under `prefix`. */
function toIssue(error: ErrorObject, prefix: (string | number)[]): ValidationIssue {
  const path = error.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { loc: [...prefix, ...path, missing], msg: "Field required", type: "missing" };
  }
  if (error.keyword === "type") {
    const expected = String((error.params as { type: string | string[] }).type);
    const type = expected.startsWith("number")
      ? "float_type"
      : expected.startsWith("boolean")
        ? "bool_type"
        : expected.startsWith("string")
          ? "string_type"
          : expected.startsWith("array")
            ? "list_type"
            : expected.startsWith("object")
              ? "dict_type"
              : "type_error";
    return {
      loc: [...prefix, ...path],
      msg: `Input should be of type ${expected.replace(",null", " or null")}`,
      type,
    };
  }
  return { loc: [...prefix, ...path], msg: error.message ?? "Invalid value", type: error.keyword };
}

/**
 * Checks a conversation document against the SDK's GetConversationResponseModel, so that what
 * is stored is always something the SDK can read back. Returns the issues, empty when valid.
 */
export function checkConversationDocument(
  doc: unknown,
  prefix: (string | number)[] = ["body"],
): ValidationIssue[] {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return [{ loc: prefix, msg: "Input should be a valid dictionary or object", type: "dict_type" }];
  }
  if (validateConversation(doc)) return [];
  const errors = (validateConversation.errors ?? []).filter(
    (e) => e.keyword !== "if" && e.keyword !== "anyOf",
  );
  const shown = errors.length > 0 ? errors : (validateConversation.errors ?? []);
  return shown.slice(0, 20).map((e) => toIssue(e, prefix));
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
