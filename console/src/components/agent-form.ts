/**
 * The agent form's model: the fields of an agent document the runtime and post-call analysis read
 * (docs/agents.md), read out of a stored document into editable text, checked, and written back
 * as a create or update body in the SDK's wire shape (snake_case, as the API takes it).
 */

type Json = Record<string, unknown>;

/** One evaluation criterion (`platform_settings.evaluation.criteria[]`). */
export interface CriterionRow {
  key: number;
  id: string;
  name: string;
  goal: string;
}

/** One data-collection field (`platform_settings.data_collection[id]`). */
export interface DataFieldRow {
  key: number;
  id: string;
  type: string;
  description: string;
}

/** One tool of `conversation_config.agent.prompt.tools`, as JSON text. */
export interface ToolRow {
  key: number;
  json: string;
}

/** Which fields a client may override (`platform_settings.overrides.conversation_config_override`). */
export interface OverrideFlags {
  prompt: boolean;
  firstMessage: boolean;
  language: boolean;
  voice: boolean;
}

/** Everything the form edits, as the inputs hold it. */
export interface AgentFormState {
  name: string;
  prompt: string;
  firstMessage: string;
  language: string;
  llm: string;
  temperature: string;
  maxTokens: string;
  tools: ToolRow[];
  criteria: CriterionRow[];
  dataFields: DataFieldRow[];
  enableAuth: boolean;
  /** Allowed hostnames, one a line. */
  allowlist: string;
  overrides: OverrideFlags;
}

/** The data-collection types the SDK's AnalysisProperty takes. */
export const DATA_FIELD_TYPES = ["string", "boolean", "integer", "number"] as const;

/** What "Add webhook tool" and "Add client tool" start from: the smallest tool the runtime runs. */
export const TOOL_TEMPLATES: Readonly<Record<"webhook" | "client", Json>> = {
  webhook: {
    type: "webhook",
    name: "lookup_order",
    description: "Looks up an order by its number.",
    api_schema: {
      url: "https://example.com/orders/{order_id}",
      method: "GET",
      path_params_schema: { order_id: { type: "string", description: "The order number" } },
    },
  },
  client: {
    type: "client",
    name: "show_page",
    description: "Shows a page of the site to the user.",
    expects_response: false,
    parameters: {
      type: "object",
      properties: { page: { type: "string", description: "The page to show" } },
    },
  },
};

let nextKey = 1;

/** A key for a new row (React's list key; never sent). */
export function newRowKey(): number {
  return nextKey++;
}

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The object at a path of nested objects, or an empty one. */
function objectAt(root: unknown, ...path: string[]): Json {
  let node: unknown = root;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return isObject(node) ? node : {};
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");
const numberText = (value: unknown): string =>
  typeof value === "number" && Number.isFinite(value) ? String(value) : "";

/** The form of a new agent. */
export function emptyAgentForm(): AgentFormState {
  return {
    name: "",
    prompt: "",
    firstMessage: "",
    language: "en",
    llm: "",
    temperature: "",
    maxTokens: "",
    tools: [],
    criteria: [],
    dataFields: [],
    enableAuth: false,
    allowlist: "",
    overrides: { prompt: false, firstMessage: false, language: false, voice: false },
  };
}

/** The form of a stored agent (a GET answer). */
export function agentFormOf(agent: Json): AgentFormState {
  const agentConfig = objectAt(agent, "conversation_config", "agent");
  const prompt = objectAt(agentConfig, "prompt");
  const platform = objectAt(agent, "platform_settings");
  const criteria = objectAt(platform, "evaluation").criteria;
  const auth = objectAt(platform, "auth");
  const flags = objectAt(platform, "overrides", "conversation_config_override");
  const tools = Array.isArray(prompt.tools) ? prompt.tools : [];
  return {
    name: text(agent.name),
    prompt: text(prompt.prompt),
    firstMessage: text(agentConfig.first_message),
    language: text(agentConfig.language),
    llm: text(prompt.llm),
    temperature: numberText(prompt.temperature),
    maxTokens: numberText(prompt.max_tokens),
    tools: tools.map((tool) => ({ key: newRowKey(), json: JSON.stringify(tool, null, 2) })),
    criteria: (Array.isArray(criteria) ? criteria : []).filter(isObject).map((c) => ({
      key: newRowKey(),
      id: text(c.id),
      name: text(c.name),
      goal: text(c.conversation_goal_prompt),
    })),
    dataFields: Object.entries(objectAt(platform, "data_collection")).map(([id, field]) => ({
      key: newRowKey(),
      id,
      type: text(objectAt(field).type) || "string",
      description: text(objectAt(field).description),
    })),
    enableAuth: auth.enable_auth === true,
    allowlist: (Array.isArray(auth.allowlist) ? auth.allowlist : [])
      .map((item) => text(objectAt(item).hostname))
      .filter((host) => host !== "")
      .join("\n"),
    overrides: {
      prompt: objectAt(flags, "agent", "prompt").prompt === true,
      firstMessage: objectAt(flags, "agent").first_message === true,
      language: objectAt(flags, "agent").language === true,
      voice: objectAt(flags, "tts").voice_id === true,
    },
  };
}

/** A problem the form finds before sending: where (an input's id suffix) and what to do. */
export interface FormProblem {
  field: string;
  message: string;
}

/** A tool's JSON text parsed, or why it cannot be used. */
export function parseTool(json: string): { tool: Json } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { problem: `Not valid JSON (${(error as Error).message}). Fix the text or remove the tool.` };
  }
  if (!isObject(value)) return { problem: "A tool is a JSON object: wrap it in { }." };
  if (typeof value.type !== "string" || value.type === "")
    return { problem: 'Set "type": "webhook", "client" or "system" are the kinds the server runs.' };
  // Other kinds (mcp, say) are kept as they are; the runtime leaves them out.
  const runs = ["webhook", "client", "system"].includes(value.type);
  if (runs && (typeof value.name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(value.name)))
    return { problem: 'Set "name" to 1–64 letters, digits, "_" or "-".' };
  return { tool: value };
}

/** Checks what the server would refuse (or the runtime could not use) before sending. */
export function checkAgentForm(form: AgentFormState): FormProblem[] {
  const problems: FormProblem[] = [];
  if (form.temperature.trim() !== "") {
    const t = Number(form.temperature);
    if (!Number.isFinite(t) || t < 0 || t > 2)
      problems.push({ field: "temperature", message: "Temperature is a number from 0 to 2, or empty." });
  }
  if (form.maxTokens.trim() !== "") {
    const n = Number(form.maxTokens);
    if (!Number.isInteger(n) || (n < 1 && n !== -1))
      problems.push({
        field: "max-tokens",
        message: "Max tokens is a whole number of at least 1 (or -1), or empty.",
      });
  }
  for (const [i, tool] of form.tools.entries()) {
    const parsed = parseTool(tool.json);
    if ("problem" in parsed)
      problems.push({ field: `tool-${tool.key}`, message: `Tool ${i + 1}: ${parsed.problem}` });
  }
  const criterionIds = new Set<string>();
  for (const [i, c] of form.criteria.entries()) {
    if (!c.id.trim() || !c.name.trim() || !c.goal.trim())
      problems.push({
        field: `criterion-${c.key}`,
        message: `Criterion ${i + 1}: fill in its id, name and goal, or remove it.`,
      });
    else if (criterionIds.has(c.id.trim()))
      problems.push({
        field: `criterion-${c.key}`,
        message: `Criterion ${i + 1}: the id ${c.id} is used twice.`,
      });
    criterionIds.add(c.id.trim());
  }
  const fieldIds = new Set<string>();
  for (const [i, f] of form.dataFields.entries()) {
    if (!f.id.trim())
      problems.push({ field: `data-${f.key}`, message: `Data field ${i + 1}: give it an id, or remove it.` });
    else if (fieldIds.has(f.id.trim()))
      problems.push({
        field: `data-${f.key}`,
        message: `Data field ${i + 1}: the id ${f.id} is used twice.`,
      });
    fieldIds.add(f.id.trim());
  }
  return problems;
}

const orNull = (value: string): string | null => (value.trim() === "" ? null : value);
const numberOrNull = (value: string): number | null => (value.trim() === "" ? null : Number(value));

/**
 * The document the form describes, as a create body (and, merged by the server, an update body):
 * only the keys the form owns, so the rest of a stored agent is kept as it was.
 */
export function agentBodyOf(form: AgentFormState): Json {
  const tools = form.tools.map((t) => parseTool(t.json)).flatMap((p) => ("tool" in p ? [p.tool] : []));
  const dataCollection: Json = {};
  for (const f of form.dataFields) {
    dataCollection[f.id.trim()] = { type: f.type, description: f.description };
  }
  return {
    name: form.name.trim(),
    conversation_config: {
      agent: {
        first_message: form.firstMessage,
        language: orNull(form.language.trim()),
        prompt: {
          prompt: form.prompt,
          llm: orNull(form.llm.trim()),
          temperature: numberOrNull(form.temperature),
          max_tokens: numberOrNull(form.maxTokens),
          tools,
        },
      },
    },
    platform_settings: {
      evaluation: {
        criteria: form.criteria.map((c) => ({
          id: c.id.trim(),
          name: c.name.trim(),
          conversation_goal_prompt: c.goal,
        })),
      },
      data_collection: dataCollection,
      auth: {
        enable_auth: form.enableAuth,
        allowlist: form.allowlist
          .split(/[\s,]+/)
          .map((host) => host.trim())
          .filter((host) => host !== "")
          .map((hostname) => ({ hostname })),
      },
      overrides: {
        conversation_config_override: {
          agent: {
            first_message: form.overrides.firstMessage,
            language: form.overrides.language,
            prompt: { prompt: form.overrides.prompt },
          },
          tts: { voice_id: form.overrides.voice },
        },
      },
    },
  };
}

/**
 * The data-collection ids a stored agent has and the form no longer does. An update merges objects
 * key by key (docs/agents.md), so a removed field needs the object cleared before the new one is
 * written.
 */
export function removedDataFields(stored: Json, form: AgentFormState): string[] {
  const kept = new Set(form.dataFields.map((f) => f.id.trim()));
  return Object.keys(objectAt(stored, "platform_settings", "data_collection")).filter((id) => !kept.has(id));
}
