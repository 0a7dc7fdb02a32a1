import { Ajv, type ValidateFunction } from "ajv";
import wireSchemas from "../fixtures/wire-schemas.json" with { type: "json" };

/** The response models the suites check bodies against (see test/fixtures/generate-wire-schemas.ts). */
export type WireModel =
  | "GetConversationsPageResponseModel"
  | "GetConversationResponseModel"
  | "GetConversationSummaryResponseModel"
  | "HttpValidationError"
  | "ConversationTagResponseModel"
  | "GetConversationTagsPageResponseModel"
  | "ConvAiFileUploadResponseModel"
  | "GetSipLogMessagesResponse"
  | "GetAgentTopicsResponseModel"
  | "MessagesSearchResponse";

type Schema = Record<string, unknown>;

/**
 * Makes a schema accept what the SDK accepts: it parses responses with unknown enum values and
 * unknown discriminator values allowed, so enums go and a discriminated `oneOf` only applies
 * when the tag is one it knows.
 */
function acceptLikeTheSdk(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(acceptLikeTheSdk);
  if (node === null || typeof node !== "object") return node;
  const schema = node as Schema;
  const discriminator = schema["x-discriminator"] as
    | { propertyName: string; mapping: Record<string, string> }
    | undefined;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "enum" || key === "x-discriminator") continue;
    if (key === "oneOf" && discriminator) continue;
    out[key] = acceptLikeTheSdk(value);
  }
  if (discriminator) {
    out.allOf = Object.entries(discriminator.mapping).map(([tag, ref]) => ({
      if: { properties: { [discriminator.propertyName]: { const: tag } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword.
      then: { $ref: ref },
    }));
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: "wire", $defs: acceptLikeTheSdk(wireSchemas.$defs) });
const validators = new Map<WireModel, ValidateFunction>();

/** Throws, listing what is wrong, unless `body` is a valid instance of the wire model. */
export function expectWireModel(model: WireModel, body: unknown): void {
  let validate = validators.get(model);
  if (!validate) {
    validate = ajv.compile({ $ref: `wire#/$defs/${model}` });
    validators.set(model, validate);
  }
  if (!validate(body)) {
    const problems = (validate.errors ?? [])
      .filter((e) => e.keyword !== "if")
      .map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`);
    throw new Error(`response is not a valid ${model}:\n  ${problems.join("\n  ")}`);
  }
}
