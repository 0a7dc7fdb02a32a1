import { type AgentTool, END_CALL_TOOL } from "./brain.js";

type JsonObject = Record<string, unknown>;

/** upstream's default `response_timeout_secs` for client, webhook and system tools. */
const DEFAULT_RESPONSE_TIMEOUT_SECS = 20;

/** The names chat-completion APIs accept for a function; a tool named otherwise would fail the whole request. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** How deep a parameter schema is followed; deeper properties are left out of what the model is told. */
const MAX_SCHEMA_DEPTH = 16;

/** What the model is told about `end_call` when the agent gives no description of its own. */
const END_CALL_DESCRIPTION =
  "Ends the call. Use it when the conversation is over: the user said goodbye or asked to hang up, " +
  "or the task is done and nothing is left to discuss. Say goodbye before calling it.";

/** The arguments of `end_call`: an optional reason, kept in the transcript. */
const END_CALL_PARAMETERS: JsonObject = {
  type: "object",
  properties: { reason: { type: "string", description: "Why the call ends, in a few words." } },
};

/** The tool kinds of `prompt.tools` the runtime runs; others (mcp, api_integration_webhook, smb) are left out. */
const RUN_KINDS = new Set(["client", "webhook", "system"]);

/** A plain object, or undefined. */
export function objectOrUndefined(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** A non-empty string, or undefined. */
function textOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Whether the model provides a property's value. upstream's property schemas say where a value
 * comes from: the model (`description`), a dynamic variable, a constant, the system, or nowhere
 * (`is_omitted`); only the first kind is shown to the model.
 */
function isModelProvided(property: JsonObject): boolean {
  return (
    textOrUndefined(property.dynamic_variable) === undefined &&
    !hasConstantValue(property) &&
    property.is_system_provided !== true &&
    property.is_omitted !== true
  );
}

/** Whether a property schema fixes its value with `constant_value`. */
export function hasConstantValue(property: JsonObject): boolean {
  // An empty string is how some stored documents spell "no constant".
  return (
    property.constant_value !== undefined &&
    property.constant_value !== null &&
    property.constant_value !== ""
  );
}

/** upstream's property schemas (literal, object, array) as a JSON schema for the model; undefined when malformed. */
function modelSchemaOf(property: JsonObject, depth: number): JsonObject | undefined {
  if (depth > MAX_SCHEMA_DEPTH) return undefined;
  const schema: JsonObject = {};
  const description = textOrUndefined(property.description);
  if (property.type === "array" || (property.type === undefined && property.items !== undefined)) {
    schema.type = "array";
    const items = objectOrUndefined(property.items);
    const itemSchema = items ? modelSchemaOf(items, depth + 1) : undefined;
    if (itemSchema) schema.items = itemSchema;
  } else if (
    property.type === "object" ||
    (property.type === undefined && property.properties !== undefined)
  ) {
    Object.assign(schema, modelObjectSchema([property], depth));
  } else if (typeof property.type === "string") {
    schema.type = property.type;
  } else if (Array.isArray(property.type) && property.type.every((t) => typeof t === "string")) {
    schema.type = property.type;
  } else {
    return undefined;
  }
  if (description !== undefined) schema.description = description;
  if (Array.isArray(property.enum) && property.enum.length > 0) schema.enum = property.enum;
  return schema;
}

/**
 * One object schema for the model from several of upstream's object-like schemas (their
 * `properties` and `required`), keeping only what the model provides. A name in several of them
 * is described once (the first); the caller uses its one value in each place.
 */
function modelObjectSchema(objects: readonly (JsonObject | undefined)[], depth = 0): JsonObject {
  const properties: JsonObject = {};
  const required = new Set<string>();
  for (const object of objects) {
    const declared = objectOrUndefined(object?.properties) ?? {};
    for (const [name, value] of Object.entries(declared)) {
      const property = objectOrUndefined(value);
      if (!property || !isModelProvided(property) || Object.hasOwn(properties, name)) continue;
      const schema = modelSchemaOf(property, depth + 1);
      if (schema) properties[name] = schema;
    }
    const names = Array.isArray(object?.required) ? object.required : [];
    for (const name of names) if (typeof name === "string") required.add(name);
  }
  const schema: JsonObject = { type: "object", properties };
  const present = [...required].filter((name) => Object.hasOwn(properties, name));
  if (present.length > 0) schema.required = present;
  return schema;
}

/**
 * The model's schema of a webhook tool's arguments: the path parameters (all required, as URL
 * placeholders must be filled), the query parameters and the body's properties, side by side.
 */
export function webhookModelSchema(apiSchema: JsonObject): JsonObject {
  const pathParams = objectOrUndefined(apiSchema.path_params_schema);
  const pathObject = pathParams ? { properties: pathParams, required: Object.keys(pathParams) } : undefined;
  return modelObjectSchema([
    pathObject,
    objectOrUndefined(apiSchema.query_params_schema),
    objectOrUndefined(apiSchema.request_body_schema),
  ]);
}

/** `response_timeout_secs` when it is a positive number (or -1, "wait for ever"), else upstream's default. */
function responseTimeoutOf(tool: JsonObject): number {
  const value = tool.response_timeout_secs;
  if (typeof value === "number" && Number.isFinite(value) && (value > 0 || value === -1)) return value;
  return DEFAULT_RESPONSE_TIMEOUT_SECS;
}

/** The `end_call` system tool as the runtime offers it, described by `declared` when the agent has one. */
function endCallTool(declared: JsonObject): AgentTool {
  return {
    kind: "system",
    name: END_CALL_TOOL,
    description: textOrUndefined(declared.description) ?? END_CALL_DESCRIPTION,
    parameters: END_CALL_PARAMETERS,
    expectsResponse: false,
    responseTimeoutSecs: responseTimeoutOf(declared),
    config: declared,
  };
}

/** Whether a system tool's definition is `end_call` (by `params.system_tool_type`, or by name when it has no params). */
function isEndCall(tool: JsonObject): boolean {
  const systemType = objectOrUndefined(tool.params)?.system_tool_type;
  return systemType === END_CALL_TOOL || (systemType === undefined && tool.name === END_CALL_TOOL);
}

/** One entry of `prompt.tools` as the runtime reads it; undefined for a malformed entry or a kind it does not run. */
function readTool(entry: unknown): AgentTool | undefined {
  const tool = objectOrUndefined(entry);
  const kind = tool?.type;
  if (!tool || typeof kind !== "string" || !RUN_KINDS.has(kind)) return undefined;
  // The runtime runs one system tool, end_call; offering the model others would fail their calls.
  if (kind === "system") return isEndCall(tool) ? endCallTool(tool) : undefined;
  const name = tool.name;
  if (typeof name !== "string" || !TOOL_NAME.test(name)) return undefined;
  const common = {
    name,
    description: typeof tool.description === "string" ? tool.description : "",
    responseTimeoutSecs: responseTimeoutOf(tool),
    config: tool,
  };
  if (kind === "client") {
    const declared = objectOrUndefined(tool.parameters);
    return {
      kind: "client",
      ...common,
      parameters: modelObjectSchema([declared]),
      expectsResponse: tool.expects_response === true,
    };
  }
  const apiSchema = objectOrUndefined(tool.api_schema);
  if (!apiSchema || textOrUndefined(apiSchema.url) === undefined) return undefined;
  return { kind: "webhook", ...common, parameters: webhookModelSchema(apiSchema), expectsResponse: true };
}

/**
 * The tools an agent may call, read from `conversation_config.agent.prompt.tools` (client,
 * webhook and system tools), with the `end_call` system tool always among them.
 */
export function readAgentTools(conversationConfig: Record<string, unknown>): AgentTool[] {
  const prompt = objectOrUndefined(objectOrUndefined(objectOrUndefined(conversationConfig)?.agent)?.prompt);
  const tools: AgentTool[] = [];
  const names = new Set<string>();
  const add = (tool: AgentTool | undefined): void => {
    // A name the model sees twice is refused by chat-completion APIs: the first definition wins.
    if (!tool || names.has(tool.name)) return;
    names.add(tool.name);
    tools.push(tool);
  };
  const declared = Array.isArray(prompt?.tools) ? prompt.tools : [];
  for (const entry of declared) add(readTool(entry));
  // Older agents enable system tools in `prompt.built_in_tools` (a definition per tool, or null).
  const builtInEndCall = objectOrUndefined(objectOrUndefined(prompt?.built_in_tools)?.end_call);
  if (builtInEndCall) add(endCallTool(builtInEndCall));
  if (!names.has(END_CALL_TOOL))
    add(endCallTool({ type: "system", name: END_CALL_TOOL, params: { system_tool_type: END_CALL_TOOL } }));
  return tools;
}
