import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildWireSchemas, ROOT_MODELS, type WireSchemas } from "../scripts/generate-wire-schemas.js";
import committed from "../src/conversations/wire-schemas.json" with { type: "json" };

const sdkDir = path.dirname(createRequire(import.meta.url).resolve("@elevenlabs/elevenlabs-js/package.json"));

/** The serializers the SDK's conversations clients call, e.g. `GetConversationResponseModel`. */
function serializersUsedByConversationClients(): Set<string> {
  const dir = path.join(sdkDir, "api/resources/conversationalAi/resources/conversations");
  const used = new Set<string>();
  for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith("Client.js")) continue;
    const source = readFileSync(path.join(dir, file), "utf8");
    for (const match of source.matchAll(/serializers\.([\w.]+)\.(?:parseOrThrow|jsonOrThrow)/g)) {
      used.add(match[1] as string);
    }
  }
  return used;
}

describe("wire schema generator", () => {
  let built: WireSchemas;
  beforeAll(() => {
    built = buildWireSchemas();
  });

  it("reproduces the committed wire schemas from the installed SDK", () => {
    expect(built).toEqual(committed);
  });

  it("starts from the models the conversations clients parse or send, and covers all of them", () => {
    const used = serializersUsedByConversationClients();
    expect([...used].filter((name) => !(name in built.$defs))).toEqual([]);
    // The 422 body: the clients throw it as UnprocessableEntityError without parsing it.
    expect(ROOT_MODELS.filter((name) => !used.has(name))).toEqual(["HttpValidationError"]);
  });

  it("writes what the SDK requires, with nulls where it takes them", () => {
    const conversation = built.$defs.GetConversationResponseModel as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(conversation.required).toContain("conversation_id");
    expect(conversation.required).not.toContain("agent_name");
    expect(conversation.properties.agent_name).toEqual({ type: ["string", "null"] });
    expect(conversation.properties.analysis).toEqual({
      anyOf: [{ $ref: "#/$defs/ConversationHistoryAnalysisCommonModel" }, { type: "null" }],
    });
  });
});
