/**
 * The JSON Schema an agent document is checked against: a narrow, hand-written part of the SDK's
 * models (`ConversationalConfig`, `AgentPlatformSettingsResponseModel`, the create and update
 * bodies). It types what the server reads or fills, and what the SDK requires inside the parts an
 * agent commonly carries, so that a GET answer parses; every other key is kept as sent, unchecked
 * (no object here closes its properties). The wire-schema generator does not cover the agent
 * models yet (see docs/agents.md).
 */

const NULLABLE_OBJECT = { type: ["object", "null"] } as const;
const NULLABLE_STRING = { type: ["string", "null"] } as const;
const NULLABLE_NUMBER = { type: ["number", "null"] } as const;
const NULLABLE_BOOLEAN = { type: ["boolean", "null"] } as const;
const NULLABLE_STRINGS = { type: ["array", "null"], items: { type: "string" } } as const;
const NULLABLE_OBJECTS = { type: ["array", "null"], items: { type: "object" } } as const;

/** An object (or null) with typed properties; other keys pass. */
function nullableObject(properties: Record<string, unknown>): Record<string, unknown> {
  return { type: ["object", "null"], properties };
}

/** `conversation_config` (the SDK's ConversationalConfig): what the live session will read. */
const CONVERSATION_CONFIG = {
  type: "object",
  properties: {
    asr: nullableObject({
      quality: NULLABLE_STRING,
      provider: NULLABLE_STRING,
      user_input_audio_format: NULLABLE_STRING,
      keywords: NULLABLE_STRINGS,
    }),
    turn: nullableObject({
      turn_timeout: NULLABLE_NUMBER,
      initial_wait_time: NULLABLE_NUMBER,
      silence_end_call_timeout: NULLABLE_NUMBER,
      turn_eagerness: NULLABLE_STRING,
    }),
    tts: nullableObject({
      model_id: NULLABLE_STRING,
      voice_id: NULLABLE_STRING,
      agent_output_audio_format: NULLABLE_STRING,
      stability: NULLABLE_NUMBER,
      speed: NULLABLE_NUMBER,
      similarity_boost: NULLABLE_NUMBER,
    }),
    conversation: nullableObject({
      text_only: NULLABLE_BOOLEAN,
      max_duration_seconds: NULLABLE_NUMBER,
      client_events: NULLABLE_STRINGS,
    }),
    language_presets: {
      type: ["object", "null"],
      additionalProperties: {
        type: "object",
        required: ["overrides"],
        properties: { overrides: { type: "object" } },
      },
    },
    vad: NULLABLE_OBJECT,
    agent: nullableObject({
      first_message: NULLABLE_STRING,
      language: NULLABLE_STRING,
      dynamic_variables: {},
      prompt: nullableObject({
        prompt: NULLABLE_STRING,
        llm: NULLABLE_STRING,
        temperature: NULLABLE_NUMBER,
        max_tokens: NULLABLE_NUMBER,
        tool_ids: NULLABLE_STRINGS,
        tools: NULLABLE_OBJECTS,
        knowledge_base: NULLABLE_OBJECTS,
      }),
    }),
  },
} as const;

/** One evaluation criterion (the SDK's PromptEvaluationCriteria): what post-call analysis will read. */
const CRITERION = {
  type: "object",
  required: ["id", "name", "conversation_goal_prompt"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    type: NULLABLE_STRING,
    conversation_goal_prompt: { type: "string" },
  },
} as const;

/** One data-collection field (the SDK's AnalysisProperty). */
const DATA_FIELD = {
  type: "object",
  required: ["type"],
  properties: { type: { type: "string" }, description: NULLABLE_STRING, enum: NULLABLE_STRINGS },
} as const;

/** `platform_settings` (the SDK's AgentPlatformSettingsResponseModel). */
const PLATFORM_SETTINGS = nullableObject({
  evaluation: nullableObject({ criteria: { type: ["array", "null"], items: CRITERION } }),
  data_collection: { type: ["object", "null"], additionalProperties: DATA_FIELD },
  widget: NULLABLE_OBJECT,
  overrides: NULLABLE_OBJECT,
  auth: NULLABLE_OBJECT,
  call_limits: NULLABLE_OBJECT,
  privacy: NULLABLE_OBJECT,
  archived: NULLABLE_BOOLEAN,
  summary_language: NULLABLE_STRING,
});

/**
 * A stored agent document: the create body (`conversation_config` required), and what a PATCH
 * leaves after it is merged in.
 */
export const agentDocumentSchema = {
  type: "object",
  required: ["conversation_config"],
  properties: {
    name: NULLABLE_STRING,
    tags: NULLABLE_STRINGS,
    conversation_config: CONVERSATION_CONFIG,
    platform_settings: PLATFORM_SETTINGS,
    workflow: NULLABLE_OBJECT,
  },
} as const;

/** The body of `POST …/{agent_id}/duplicate`: an optional name for the copy. */
export const duplicateBodySchema = {
  type: "object",
  properties: { name: NULLABLE_STRING },
} as const;
