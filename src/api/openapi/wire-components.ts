/**
 * The SDK's wire models (src/conversations/wire-schemas.json, the file document-validator.ts
 * checks every stored conversation against) as OpenAPI components: the same schema objects,
 * with their `$ref`s pointed at `#/components/schemas/…`, so the description cannot drift from
 * what validates.
 */
import wireSchemas from "../../conversations/wire-schemas.json" with { type: "json" };

const WIRE_DEFS = (wireSchemas as { $defs: Record<string, unknown> }).$defs;
const DEFS_PREFIX = "#/$defs/";
const COMPONENTS_PREFIX = "#/components/schemas/";

/** Points a `#/$defs/X` reference of the wire file at the document's components. */
function toComponentRef(ref: string): string {
  return ref.startsWith(DEFS_PREFIX) ? COMPONENTS_PREFIX + ref.slice(DEFS_PREFIX.length) : ref;
}

/** Copies a wire schema node with its references rewritten; `x-discriminator` becomes OpenAPI's `discriminator`. */
function toComponentSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toComponentSchema);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") out.$ref = toComponentRef(value);
    else if (key === "x-discriminator") {
      const { propertyName, mapping } = value as { propertyName: string; mapping: Record<string, string> };
      out.discriminator = {
        propertyName,
        mapping: Object.fromEntries(Object.entries(mapping).map(([tag, ref]) => [tag, toComponentRef(ref)])),
      };
    } else out[key] = toComponentSchema(value);
  }
  return out;
}

/** Every wire model as an OpenAPI component schema, by its name in wire-schemas.json. */
export function wireComponentSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(WIRE_DEFS).map(([name, schema]) => [name, toComponentSchema(schema)]),
  );
}

/** A reference to one wire model; a name the wire schemas do not have is a programming error. */
export function wireModelRef(name: string): { $ref: string } {
  if (!Object.hasOwn(WIRE_DEFS, name)) throw new Error(`wire-schemas.json has no model ${name}`);
  return { $ref: COMPONENTS_PREFIX + name };
}
