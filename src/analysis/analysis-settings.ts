/** The value types a data-collection field can have. */
export type DataFieldType = "string" | "boolean" | "integer" | "number";

/** One evaluation criterion: what a successful conversation achieves, judged by the model. */
export interface EvaluationCriterion {
  id: string;
  name?: string;
  /** What the model checks the conversation against. */
  conversation_goal_prompt: string;
}

/** One data-collection field: a value the model extracts from the conversation. */
export interface DataCollectionField {
  type: DataFieldType;
  description: string;
  /** Allowed values, for string fields. */
  enum?: string[];
}

/** An agent's analysis settings (body of `PUT /ingest/v1/agents/{agent_id}/analysis-settings`). */
export interface AnalysisSettings {
  evaluation_criteria: EvaluationCriterion[];
  data_collection: Record<string, DataCollectionField>;
}

/** Limits on analysis settings: they all go into the prompt. */
export const SETTINGS_LIMITS = { criteria: 30, fields: 50, promptChars: 1000, idChars: 128 } as const;

const ID = {
  type: "string",
  minLength: 1,
  maxLength: SETTINGS_LIMITS.idChars,
  pattern: "^[A-Za-z0-9_.-]+$",
} as const;

/** The JSON schema of an agent's analysis settings. */
export const analysisSettingsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    evaluation_criteria: {
      type: "array",
      maxItems: SETTINGS_LIMITS.criteria,
      default: [],
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "conversation_goal_prompt"],
        properties: {
          id: ID,
          name: { type: "string", maxLength: 200 },
          conversation_goal_prompt: { type: "string", minLength: 1, maxLength: SETTINGS_LIMITS.promptChars },
        },
      },
    },
    data_collection: {
      type: "object",
      maxProperties: SETTINGS_LIMITS.fields,
      default: {},
      propertyNames: ID,
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["type", "description"],
        properties: {
          type: { type: "string", enum: ["string", "boolean", "integer", "number"] },
          description: { type: "string", minLength: 1, maxLength: SETTINGS_LIMITS.promptChars },
          enum: { type: "array", maxItems: 50, minItems: 1, items: { type: "string", maxLength: 200 } },
        },
      },
    },
  },
} as const;

/** Settings for an agent that has none: summary, title and success only. */
export const EMPTY_SETTINGS: AnalysisSettings = { evaluation_criteria: [], data_collection: {} };

/** Finds duplicate criterion ids (the schema cannot say "unique by id"). */
export function findDuplicateCriterion(settings: AnalysisSettings): string | undefined {
  const seen = new Set<string>();
  for (const c of settings.evaluation_criteria) {
    if (seen.has(c.id)) return c.id;
    seen.add(c.id);
  }
  return undefined;
}
