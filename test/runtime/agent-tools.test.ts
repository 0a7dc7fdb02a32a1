import { describe, expect, it } from "vitest";
import { readAgentTools } from "../../src/runtime/agent-tools.js";
import type { AgentTool } from "../../src/runtime/brain.js";

/** A conversation config whose agent declares `tools` (and optionally `built_in_tools`). */
function configWith(tools: unknown, builtInTools?: unknown): Record<string, unknown> {
  const prompt: Record<string, unknown> = { prompt: "You help.", tools };
  if (builtInTools !== undefined) prompt.built_in_tools = builtInTools;
  return { agent: { first_message: "Hi", prompt } };
}

function named(tools: AgentTool[], name: string): AgentTool | undefined {
  return tools.find((tool) => tool.name === name);
}

const CLIENT_TOOL = {
  type: "client",
  name: "show_map",
  description: "Shows a map of a city.",
  expects_response: true,
  response_timeout_secs: 45,
  parameters: {
    type: "object",
    description: "",
    required: ["city", "zoom", "session"],
    properties: {
      city: { type: "string", description: "The city to show", enum: ["Paris", "Rome"] },
      zoom: { type: "integer", description: "Zoom level" },
      session: { type: "string", dynamic_variable: "session_id" },
      theme: { type: "string", constant_value: "dark" },
      layers: { type: "array", description: "Layers", items: { type: "string", description: "A layer" } },
    },
  },
};

const WEBHOOK_TOOL = {
  type: "webhook",
  name: "lookup_order",
  description: "Looks an order up.",
  api_schema: {
    url: "https://shop.example/orders/{order_id}",
    method: "POST",
    path_params_schema: { order_id: { type: "string", description: "The order's id" } },
    query_params_schema: {
      properties: {
        verbose: { type: "boolean", description: "Whether to include the items" },
        api_version: { type: "string", constant_value: "2" },
      },
      required: ["verbose", "api_version"],
    },
    request_body_schema: {
      type: "object",
      required: ["note", "customer"],
      properties: {
        note: { type: "string", description: "A note for the shop" },
        customer: {
          type: "object",
          description: "Who asks",
          required: ["email"],
          properties: {
            email: { type: "string", description: "Their email" },
            tenant: { type: "string", dynamic_variable: "tenant" },
          },
        },
        skipped: { type: "string", is_omitted: true },
      },
    },
    request_headers: { "x-shop": "demo" },
  },
};

describe("readAgentTools", () => {
  it("reads a client tool: its schema without the values the model does not give, and its settings", () => {
    const tools = readAgentTools(configWith([CLIENT_TOOL]));
    expect(named(tools, "show_map")).toEqual({
      kind: "client",
      name: "show_map",
      description: "Shows a map of a city.",
      parameters: {
        type: "object",
        properties: {
          city: { type: "string", description: "The city to show", enum: ["Paris", "Rome"] },
          zoom: { type: "integer", description: "Zoom level" },
          layers: { type: "array", description: "Layers", items: { type: "string", description: "A layer" } },
        },
        required: ["city", "zoom"],
      },
      expectsResponse: true,
      responseTimeoutSecs: 45,
      config: CLIENT_TOOL,
    });
  });

  it("gives a client tool upstream's defaults: no response awaited, 20 s, an empty object schema", () => {
    const tools = readAgentTools(configWith([{ type: "client", name: "wave", description: "Waves." }]));
    const wave = named(tools, "wave");
    expect(wave?.expectsResponse).toBe(false);
    expect(wave?.responseTimeoutSecs).toBe(20);
    expect(wave?.parameters).toEqual({ type: "object", properties: {} });
  });

  it("reads a webhook tool: path, query and body parameters side by side, path parameters required", () => {
    const tools = readAgentTools(configWith([WEBHOOK_TOOL]));
    const lookup = named(tools, "lookup_order");
    expect(lookup?.kind).toBe("webhook");
    expect(lookup?.description).toBe("Looks an order up.");
    expect(lookup?.responseTimeoutSecs).toBe(20);
    expect(lookup?.config).toBe(WEBHOOK_TOOL);
    expect(lookup?.parameters).toEqual({
      type: "object",
      properties: {
        order_id: { type: "string", description: "The order's id" },
        verbose: { type: "boolean", description: "Whether to include the items" },
        note: { type: "string", description: "A note for the shop" },
        customer: {
          type: "object",
          description: "Who asks",
          properties: { email: { type: "string", description: "Their email" } },
          required: ["email"],
        },
      },
      required: ["order_id", "verbose", "note", "customer"],
    });
  });

  it("reads the end_call system tool from prompt.tools, once, with its own description", () => {
    const endCall = {
      type: "system",
      name: "end_call",
      description: "Hang up when the order is sorted.",
      params: { system_tool_type: "end_call" },
    };
    const tools = readAgentTools(configWith([endCall, { ...endCall, description: "a second one" }]));
    const endCalls = tools.filter((tool) => tool.name === "end_call");
    expect(endCalls).toHaveLength(1);
    expect(endCalls[0]?.kind).toBe("system");
    expect(endCalls[0]?.description).toBe("Hang up when the order is sorted.");
    expect(endCalls[0]?.config).toBe(endCall);
  });

  it("names a renamed end_call system tool end_call, as the runtime and the clients know it", () => {
    const tools = readAgentTools(
      configWith([
        { type: "system", name: "hang_up", description: "", params: { system_tool_type: "end_call" } },
      ]),
    );
    expect(tools.map((tool) => tool.name)).toEqual(["end_call"]);
    expect(tools[0]?.description).not.toBe("");
  });

  it("reads end_call from the older prompt.built_in_tools, and still only once", () => {
    const builtIn = {
      end_call: {
        name: "end_call",
        description: "Built-in hang-up.",
        params: { system_tool_type: "end_call" },
      },
      language_detection: null,
    };
    const fromBuiltIn = readAgentTools(configWith([], builtIn));
    expect(fromBuiltIn.filter((tool) => tool.name === "end_call")).toHaveLength(1);
    expect(named(fromBuiltIn, "end_call")?.description).toBe("Built-in hang-up.");

    const both = readAgentTools(
      configWith([{ type: "system", name: "end_call", params: { system_tool_type: "end_call" } }], builtIn),
    );
    expect(both.filter((tool) => tool.name === "end_call")).toHaveLength(1);
  });

  it("adds end_call when the agent declares no tools at all", () => {
    for (const config of [{}, { agent: {} }, configWith(undefined), configWith([])]) {
      const tools = readAgentTools(config);
      expect(tools).toHaveLength(1);
      expect(tools[0]).toMatchObject({ kind: "system", name: "end_call", expectsResponse: false });
      expect(tools[0]?.description).toMatch(/end/i);
      expect(tools[0]?.parameters).toMatchObject({ type: "object" });
    }
  });

  it("keeps end_call last when it adds it, after the agent's own tools in their order", () => {
    const tools = readAgentTools(configWith([WEBHOOK_TOOL, CLIENT_TOOL]));
    expect(tools.map((tool) => tool.name)).toEqual(["lookup_order", "show_map", "end_call"]);
  });

  it("skips malformed entries, kinds it does not run and system tools other than end_call", () => {
    const tools = readAgentTools(
      configWith([
        null,
        "show_map",
        42,
        [],
        { type: "client" },
        { type: "client", name: "" },
        { type: "client", name: "has spaces" },
        { type: "client", name: "x".repeat(65) },
        { type: "webhook", name: "no_schema", description: "" },
        { type: "webhook", name: "no_url", description: "", api_schema: { method: "GET" } },
        { type: "mcp", value: {} },
        { type: "api_integration_webhook", name: "integration" },
        { type: "system", name: "skip_turn", params: { system_tool_type: "skip_turn" } },
        { name: "untyped", description: "no type" },
        { type: "client", name: "good", description: "Kept." },
        { type: "client", name: "good", description: "A duplicate name." },
      ]),
    );
    expect(tools.map((tool) => tool.name)).toEqual(["good", "end_call"]);
    expect(named(tools, "good")?.description).toBe("Kept.");
  });

  it("never throws on odd shapes: wrong types, odd property schemas, very deep nesting", () => {
    let deep: Record<string, unknown> = { type: "string", description: "leaf" };
    for (let i = 0; i < 200; i += 1) deep = { type: "object", properties: { inner: deep } };
    const odd = [
      { agent: "not an object" },
      { agent: { prompt: { tools: "not a list", built_in_tools: "nor an object" } } },
      configWith([
        {
          type: "client",
          name: "odd",
          description: 7,
          response_timeout_secs: "soon",
          parameters: { properties: { a: null, b: { type: 5 }, c: { type: ["string", "null"] }, deep } },
        },
      ]),
    ];
    for (const config of odd) expect(() => readAgentTools(config)).not.toThrow();
    const tools = readAgentTools(odd[2] ?? {});
    const oddTool = named(tools, "odd");
    expect(oddTool?.description).toBe("");
    expect(oddTool?.responseTimeoutSecs).toBe(20);
    expect(Object.keys((oddTool?.parameters.properties as Record<string, unknown>) ?? {})).toEqual([
      "c",
      "deep",
    ]);
    expect(readAgentTools(null as unknown as Record<string, unknown>).map((tool) => tool.name)).toEqual([
      "end_call",
    ]);
  });
});
