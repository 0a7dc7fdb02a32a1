/**
 * Regenerates src/conversations/wire-schemas.json from the installed `@elevenlabs/elevenlabs-js`.
 *
 * The SDK's serialization layer builds every wire model out of the schema constructors in its
 * core/schemas (object, property, list, union, ...), which keep their parts in closures. So the
 * constructors are wrapped before the layer is loaded, and each schema records what it was built
 * from. Names come from the `serialization` namespace, descriptions from the doc comments of the
 * SDK's api/**.d.ts. Nothing outside the SDK package is read.
 *
 * Run `npm run schemas` after upgrading the SDK (see src/conversations/wire-schemas.md).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The models the conversations resource's clients parse or send; the walk starts from them. */
export const ROOT_MODELS = [
  "ConvAiFileUploadResponseModel",
  "ConversationProduct",
  "ConversationSignedUrlResponseModel",
  "EvaluationResultFilter",
  "GetAgentTopicsResponseModel",
  "GetConversationResponseModel",
  "GetConversationSummaryResponseModel",
  "GetConversationTagsPageResponseModel",
  "GetConversationsPageResponseModel",
  "GetSipLogMessagesResponse",
  "HttpValidationError",
  "MessageSearchSortBy",
  "MessagesSearchResponse",
  "SortDirection",
  "TokenResponseModel",
  "TopicSortBy",
  "conversationalAi.ConversationsGetRequestFormat",
  "conversationalAi.ConversationsListRequestExcludeStatusesItem",
  "conversationalAi.ConversationsListRequestSummaryMode",
  "conversationalAi.conversations.AssignConversationTagsRequestModel",
  "conversationalAi.conversations.ConversationFeedbackRequestModel",
  "conversationalAi.conversations.CreateConversationTagRequestModel",
  "conversationalAi.conversations.MessagesTextSearchRequestExcludeStatusesItem",
  "conversationalAi.conversations.MessagesTextSearchRequestSummaryMode",
  "conversationalAi.conversations.PatchConversationTagRequestModel",
  "conversationalAi.conversations.RunConversationEvaluationsRequest",
] as const;

/** A JSON Schema node as written to the file. */
export type JsonSchema = { [key: string]: unknown };

/** The generated file: a comment naming the SDK version, and one `$defs` entry per wire model. */
export interface WireSchemas {
  $comment: string;
  $defs: Record<string, JsonSchema>;
}

type Module = Record<string, unknown>;
type Recorded = { builder: string; args: unknown[] };
type Docs = { model?: string; properties: Map<string, string> };
type Walk = { names: Map<object, string>; referenced: string[] };

/** The wrapped constructors, by module under core/schemas/builders/. */
const BUILDERS: Record<string, string> = {
  "bigint/bigint.js": "bigint",
  "date/date.js": "date",
  "enum/enum.js": "enum_",
  "lazy/lazy.js": "lazy",
  "lazy/lazyObject.js": "lazyObject",
  "list/list.js": "list",
  "literals/booleanLiteral.js": "booleanLiteral",
  "literals/stringLiteral.js": "stringLiteral",
  "object/object.js": "object",
  "primitives/any.js": "any",
  "primitives/boolean.js": "boolean",
  "primitives/never.js": "never",
  "primitives/number.js": "number",
  "primitives/string.js": "string",
  "primitives/unknown.js": "unknown",
  "record/record.js": "record",
  "set/set.js": "set",
  "undiscriminated-union/undiscriminatedUnion.js": "undiscriminatedUnion",
  "union/union.js": "union",
};

/** The schema types the SDK does not require a key for (isSchemaRequired in builders/object/object.js). */
const OPTIONAL_TYPES = new Set(["any", "unknown", "optional", "optionalNullable"]);

const sdkRequire = createRequire(import.meta.url);
const sdkDir = path.dirname(sdkRequire.resolve("@elevenlabs/elevenlabs-js/package.json"));
const recorded = new WeakMap<object, Recorded>();
let serializers: Module | undefined;

/** Marks a schema with its parts, and makes its `.optional()` and the like mark theirs too. */
function recordSchema<T>(schema: T, builder: string, args: unknown[]): T {
  const utils = schema as Module;
  recorded.set(utils, { builder, args });
  for (const method of ["optional", "nullable", "optionalNullable", "transform"]) {
    const original = utils[method];
    if (typeof original === "function") {
      utils[method] = (...rest: unknown[]) => recordSchema(original(...rest), method, [schema]);
    }
  }
  return schema;
}

/** Loads the SDK's serialization layer with recording constructors, once; returns its root namespace. */
function loadSerializers(): Module {
  if (serializers) return serializers;
  const entry = path.join(sdkDir, "serialization/index.js");
  if (sdkRequire.cache[entry]) throw new Error("the SDK's serialization layer was loaded before recording");
  const restore: (() => void)[] = [];
  try {
    for (const [file, name] of Object.entries(BUILDERS)) {
      const mod = sdkRequire(path.join(sdkDir, "core/schemas/builders", file)) as Module;
      const original = mod[name] as (...args: unknown[]) => unknown;
      mod[name] = (...args: unknown[]) => recordSchema(original(...args), name, args);
      restore.push(() => {
        mod[name] = original;
      });
    }
    serializers = sdkRequire(entry) as Module;
    return serializers;
  } finally {
    for (const undo of restore) undo();
  }
}

/** Names every exported schema by its path in the namespace (`conversationalAi.X`), shortest first. */
function nameSchemas(root: Module): Map<object, string> {
  const names = new Map<object, string>();
  const seen = new Set<object>([root]);
  const queue: [Module, string][] = [[root, ""]];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [namespace, prefix] = next;
    for (const key of Object.keys(namespace).sort()) {
      const value = namespace[key];
      if (value === null || typeof value !== "object" || seen.has(value)) continue;
      seen.add(value);
      if (recorded.has(value)) names.set(value, prefix + key);
      else queue.push([value as Module, `${prefix}${key}.`]);
    }
  }
  return names;
}

/** Finds where each schema is declared: serialization/<path>.js pairs with api/<path>.d.ts. */
function findDeclarations(): Map<object, { file: string; name: string }> {
  const found = new Map<object, { file: string; name: string }>();
  const serializationDir = path.join(sdkDir, "serialization");
  for (const [filename, mod] of Object.entries(sdkRequire.cache)) {
    if (!mod || !filename.startsWith(serializationDir + path.sep)) continue;
    const file = path.join(
      sdkDir,
      "api",
      path.relative(serializationDir, filename).replace(/\.js$/, ".d.ts"),
    );
    // Index modules re-export through getters; only the defining module holds the value itself.
    for (const [name, { value }] of Object.entries(Object.getOwnPropertyDescriptors(mod.exports))) {
      if (value !== null && typeof value === "object" && recorded.has(value) && !found.has(value)) {
        found.set(value, { file, name });
      }
    }
  }
  return found;
}

/** The doc comment of a declaration on one line, without its tags (`@example` and the like). */
function docText(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = ts.getTextOfJSDocComment(docs.at(-1)?.comment)?.replace(/\s+/g, " ").trim();
  return text || undefined;
}

/** Reads a model's description, and its properties' descriptions by camelCase name, from its .d.ts. */
function readDocs(declaration: { file: string; name: string } | undefined): Docs {
  const docs: Docs = { properties: new Map() };
  if (!declaration || !existsSync(declaration.file)) return docs;
  const text = readFileSync(declaration.file, "utf8");
  const source = ts.createSourceFile(declaration.file, text, ts.ScriptTarget.Latest, true);
  for (const statement of source.statements) {
    const declared = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.map((d) => d.name.getText(source))
      : ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)
        ? [statement.name.text]
        : [];
    if (!declared.includes(declaration.name)) continue;
    docs.model ??= docText(statement);
    if (!ts.isInterfaceDeclaration(statement)) continue;
    for (const member of statement.members) {
      const description = docText(member);
      if (!member.name || !description) continue;
      docs.properties.set(member.name.getText(source).replace(/^["']|["']$/g, ""), description);
    }
  }
  return docs;
}

/** A reference to a named model (queued for writing), or the schema itself when it has no name. */
function refer(schema: unknown, walk: Walk): JsonSchema {
  const name = walk.names.get(schema as object);
  if (name === undefined) return describe(schema, walk);
  walk.referenced.push(name);
  return { $ref: `#/$defs/${name}` };
}

/** The JSON Schema of one SDK schema; `docs` gives an object's property descriptions. */
function describe(schema: unknown, walk: Walk, docs?: Docs): JsonSchema {
  const parts = recorded.get(schema as object);
  if (!parts) throw new Error("met a schema that was not recorded: a constructor of the SDK is not wrapped");
  const [first, second] = parts.args;
  switch (parts.builder) {
    case "string":
    case "date":
      return { type: "string" };
    case "number":
    case "boolean":
      return { type: parts.builder };
    case "unknown":
    case "any":
      return {};
    case "stringLiteral":
      return { type: "string", const: first };
    case "booleanLiteral":
      return { type: "boolean", const: first };
    case "enum_":
      return { type: "string", enum: first };
    case "list":
      return { type: "array", items: refer(first, walk) };
    case "record":
      if ((first as { getType: () => string }).getType() !== "string")
        throw new Error("a record with non-string keys");
      return { type: "object", additionalProperties: refer(second, walk) };
    case "undiscriminatedUnion":
      return { anyOf: (first as unknown[]).map((member) => refer(member, walk)) };
    case "union":
      return describeUnion(first, second as Module, walk);
    case "object":
      return describeObject(first as Module, walk, docs);
    case "optional":
    case "optionalNullable":
    case "nullable":
      return orNull(refer(first, walk));
    case "transform":
      return describe(first, walk, docs);
    case "lazy":
    case "lazyObject":
      return refer((first as () => unknown)(), walk);
    default:
      throw new Error(`no JSON Schema for the SDK's ${parts.builder}()`);
  }
}

/** An object: wire (raw) property names in the SDK's order; required as the SDK decides it. */
function describeObject(fields: Module, walk: Walk, docs?: Docs): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [parsedKey, field] of Object.entries(fields)) {
    const property = field as { isProperty?: boolean; rawKey: string; valueSchema: unknown };
    const [rawKey, value] = property.isProperty
      ? [property.rawKey, property.valueSchema]
      : [parsedKey, field];
    const description = docs?.properties.get(parsedKey);
    properties[rawKey] = { ...(description ? { description } : {}), ...refer(value, walk) };
    if (!OPTIONAL_TYPES.has((value as { getType: () => string }).getType())) required.push(rawKey);
  }
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}) };
}

/** A discriminated union: one member per tag, with the tag mapping kept in `x-discriminator`. */
function describeUnion(discriminant: unknown, members: Module, walk: Walk): JsonSchema {
  const tag =
    typeof discriminant === "string"
      ? discriminant
      : (discriminant as { rawDiscriminant: string }).rawDiscriminant;
  const mapping: Record<string, string> = {};
  const oneOf = Object.entries(members).map(([value, member]) => {
    const target = refer(member, walk);
    if (typeof target.$ref !== "string") throw new Error(`union member ${value} is not a named model`);
    mapping[value] = target.$ref;
    const tagged = {
      type: "object",
      properties: { [tag]: { type: "string", const: value } },
      required: [tag],
    };
    return { allOf: [tagged, target] };
  });
  return { type: "object", required: [tag], oneOf, "x-discriminator": { propertyName: tag, mapping } };
}

/** Makes a schema also accept null: the SDK's `.optional()` takes null and a missing key alike. */
function orNull(schema: JsonSchema): JsonSchema {
  if (Object.keys(schema).length === 0) return schema;
  if (typeof schema.type === "string" && !("const" in schema) && !("enum" in schema)) {
    return { ...schema, type: [schema.type, "null"] };
  }
  return { anyOf: [schema, { type: "null" }] };
}

/** Builds the JSON Schema of every model reachable from the roots, sorted by name. */
export function buildWireSchemas(roots: readonly string[] = ROOT_MODELS): WireSchemas {
  const names = nameSchemas(loadSerializers());
  const declarations = findDeclarations();
  const byName = new Map([...names].map(([schema, name]) => [name, schema]));
  const walk: Walk = { names, referenced: [...roots] };
  const defs = new Map<string, JsonSchema>();
  for (let name = walk.referenced.pop(); name !== undefined; name = walk.referenced.pop()) {
    if (defs.has(name)) continue;
    const schema = byName.get(name);
    if (!schema) throw new Error(`the SDK has no serializer named ${name}`);
    const docs = readDocs(declarations.get(schema));
    defs.set(name, {
      title: name,
      ...(docs.model ? { description: docs.model } : {}),
      ...describe(schema, walk, docs),
    });
  }
  const { version } = sdkRequire("@elevenlabs/elevenlabs-js/package.json") as { version: string };
  return {
    $comment:
      `Wire models of the ElevenLabs Conversations API as validated by @elevenlabs/elevenlabs-js ${version} ` +
      "(snake_case names; 'required' = the SDK rejects a response without the key). " +
      "Generated by scripts/generate-wire-schemas.ts (npm run schemas); do not edit.",
    $defs: Object.fromEntries([...defs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL("../src/conversations/wire-schemas.json", import.meta.url));
  const schemas = buildWireSchemas();
  writeFileSync(target, JSON.stringify(schemas, null, 1));
  process.stdout.write(`wrote ${Object.keys(schemas.$defs).length} models to ${target}\n`);
}
