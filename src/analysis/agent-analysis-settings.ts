import type { AnalysisSettingsStore } from "../store/analysis-settings-store.js";
import {
  type AnalysisSettings,
  type DataCollectionField,
  type DataFieldType,
  EMPTY_SETTINGS,
  type EvaluationCriterion,
  SETTINGS_LIMITS,
} from "./analysis-settings.js";

/**
 * The part of the Agents API analysis reads: an agent's stored `platform_settings`, or undefined
 * when no agent of that id is served here (AgentService.getAgentConfig fits it).
 */
export interface AgentSettingsSource {
  getAgentConfig(agentId: string): Promise<{ platformSettings: Record<string, unknown> | null } | undefined>;
}

/** Where an analysis's criteria and data-collection fields came from. */
export type AnalysisSettingsOrigin = "agent" | "ingest";

/** An agent's analysis settings and where they were read. */
export interface ResolvedAnalysisSettings {
  settings: AnalysisSettings;
  origin: AnalysisSettingsOrigin;
}

const FIELD_TYPES = new Set<DataFieldType>(["string", "boolean", "integer", "number"]);
/** Most allowed values of one string field sent to the model (as the ingest settings allow). */
const MAX_ENUM_VALUES = 50;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function cut(text: string): string {
  return text.length > SETTINGS_LIMITS.promptChars ? text.slice(0, SETTINGS_LIMITS.promptChars) : text;
}

/** `platform_settings.evaluation.criteria` (PromptEvaluationCriteria) as criteria the model judges. */
function criteriaOf(platformSettings: Record<string, unknown>): EvaluationCriterion[] {
  const list = asRecord(platformSettings.evaluation)?.criteria;
  const criteria: EvaluationCriterion[] = [];
  const seen = new Set<string>();
  for (const item of Array.isArray(list) ? list : []) {
    const criterion = asRecord(item);
    const id = nonEmpty(criterion?.id);
    const goal = nonEmpty(criterion?.conversation_goal_prompt);
    if (!id || !goal || seen.has(id)) continue;
    seen.add(id);
    const name = nonEmpty(criterion?.name);
    criteria.push({ id, ...(name ? { name } : {}), conversation_goal_prompt: cut(goal) });
    if (criteria.length === SETTINGS_LIMITS.criteria) break;
  }
  return criteria;
}

/**
 * `platform_settings.data_collection` (id → AnalysisProperty) as fields the model extracts. A
 * field whose value comes from elsewhere (a dynamic variable, a constant, the system) or is
 * omitted is not the model's to answer and is left out; without a description, the field's name
 * (or id) tells the model what to look for.
 */
function dataCollectionOf(platformSettings: Record<string, unknown>): Record<string, DataCollectionField> {
  const fields: Record<string, DataCollectionField> = {};
  let count = 0;
  for (const [id, value] of Object.entries(asRecord(platformSettings.data_collection) ?? {})) {
    const property = asRecord(value);
    if (!property || !FIELD_TYPES.has(property.type as DataFieldType)) continue;
    if (
      property.dynamic_variable != null ||
      property.constant_value != null ||
      property.is_system_provided === true ||
      property.is_omitted === true
    )
      continue;
    const field: DataCollectionField = {
      type: property.type as DataFieldType,
      description: cut(nonEmpty(property.description) ?? nonEmpty(property.name) ?? id),
    };
    const allowed = Array.isArray(property.enum)
      ? property.enum.filter((v): v is string => typeof v === "string")
      : [];
    if (field.type === "string" && allowed.length > 0) field.enum = allowed.slice(0, MAX_ENUM_VALUES);
    fields[id] = field;
    count += 1;
    if (count === SETTINGS_LIMITS.fields) break;
  }
  return fields;
}

/**
 * An agent's analysis settings from its `platform_settings` (the SDK's
 * AgentPlatformSettingsResponseModel): `evaluation.criteria` and `data_collection`, within the
 * limits the ingest settings have (at most 30 criteria and 50 fields, texts cut at 1000
 * characters), since they all go into the prompt.
 */
export function analysisSettingsFromAgent(
  platformSettings: Record<string, unknown> | null,
): AnalysisSettings {
  if (!platformSettings) return EMPTY_SETTINGS;
  return {
    evaluation_criteria: criteriaOf(platformSettings),
    data_collection: dataCollectionOf(platformSettings),
  };
}

/** Reads the settings stored by `PUT /ingest/v1/agents/{agent_id}/analysis-settings` (none: empty). */
export async function loadIngestAnalysisSettings(
  store: AnalysisSettingsStore,
  agentId: string,
): Promise<AnalysisSettings> {
  const json = await store.getAnalysisSettings(agentId);
  return json ? (JSON.parse(json) as AnalysisSettings) : EMPTY_SETTINGS;
}

/**
 * The settings an analysis of a conversation with `agentId` uses. An agent served here wins,
 * whatever its configuration holds (no criteria means none): its `platform_settings` are what its
 * owner edits. The ingest settings are for agents that live elsewhere (conversations copied from
 * ElevenLabs), and are read only when no agent of that id is served here.
 */
export async function resolveAnalysisSettings(
  sources: { agents?: AgentSettingsSource; analysisSettings: AnalysisSettingsStore },
  agentId: string,
): Promise<ResolvedAnalysisSettings> {
  const agent = agentId ? await sources.agents?.getAgentConfig(agentId) : undefined;
  if (agent) return { settings: analysisSettingsFromAgent(agent.platformSettings), origin: "agent" };
  return { settings: await loadIngestAnalysisSettings(sources.analysisSettings, agentId), origin: "ingest" };
}
