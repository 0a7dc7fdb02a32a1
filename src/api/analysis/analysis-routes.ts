import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { loadIngestAnalysisSettings } from "../../analysis/agent-analysis-settings.js";
import { InvalidAnswerError } from "../../analysis/analysis-answer.js";
import { type AnalysisDeps, type AnalysisRun, runAnalysis } from "../../analysis/analysis-service.js";
import {
  type AnalysisSettings,
  analysisSettingsSchema,
  findDuplicateCriterion,
} from "../../analysis/analysis-settings.js";
import { renderStoredDocument } from "../../domain/stored-document.js";
import type { ChatModel } from "../../providers/llm/chat-model.js";
import { ProviderError } from "../../providers/provider-error.js";
import { ApiError, ValidationFailed } from "../api-error.js";
import {
  type AgentIdParam,
  agentIdParams,
  type ConversationIdParam,
  conversationIdParams,
} from "../path-params.js";

/**
 * What the analysis routes use. With `agents`, a run on a conversation with an agent served here
 * uses that agent's `platform_settings` (evaluation criteria, data collection); the ingest
 * settings below are for agents that live elsewhere (see resolveAnalysisSettings).
 */
export interface AnalysisRoutesDeps extends AnalysisDeps {
  /** Unset when no LLM provider is configured: the runs answer analysis_not_configured. */
  llm: ChatModel | undefined;
}

/** The body of `…/analysis/evaluations/run` (RunConversationEvaluationsRequest). */
const evaluationBodySchema = {
  type: "object",
  properties: {
    evaluation_id: { type: "string", minLength: 1, maxLength: 128 },
    scope: { anyOf: [{ type: "string", enum: ["conversation", "agent"] }, { type: "null" }] },
  },
  required: ["evaluation_id"],
} as const;

/** The analysis routes answer this when no LLM provider is configured. */
function notConfigured(): ApiError {
  return new ApiError(
    400,
    "analysis_not_configured",
    "Analysis needs an LLM provider: set OPENCONVAI_LLM_BASE_URL (an OpenAI-compatible API, e.g. https://api.openai.com/v1), " +
      "OPENCONVAI_LLM_MODEL and, if the provider needs one, OPENCONVAI_LLM_API_KEY, then restart the server (see docs/configuration.md).",
  );
}

/**
 * A model failure as the error handler logs it (at warn): its kind and message, not the errors it
 * wraps, since a JSON parse error quotes the model's answer, which may quote the transcript.
 */
function withoutCauses(error: Error): Error {
  const summary = new Error(error.message);
  summary.name = error.name;
  return summary;
}

/** Runs an analysis and renders the conversation as written, mapping model failures to 502s. */
async function runAndRender(
  deps: AnalysisRoutesDeps,
  conversationId: string,
  run: AnalysisRun,
  log: FastifyBaseLogger,
): Promise<string> {
  if (!deps.llm) throw notConfigured();
  try {
    const written = await runAnalysis(deps, deps.llm, conversationId, run);
    return renderStoredDocument(written.json, written);
  } catch (error) {
    const code =
      error instanceof InvalidAnswerError
        ? "llm_invalid_output"
        : error instanceof ProviderError
          ? "llm_provider_error"
          : undefined;
    if (!code) throw error;
    log.debug({ err: error }, "analysis run failed");
    throw new ApiError(502, code, `${(error as Error).message}. Nothing was written.`, {
      cause: withoutCauses(error as Error),
    });
  }
}

/**
 * Post-call analysis (`…/analysis/run`, `…/analysis/evaluations/run`) and the per-agent settings
 * of agents that live elsewhere (`/ingest/v1/agents/{agent_id}/analysis-settings`: GET answers
 * what that route stored, not an agent served here).
 */
export async function analysisRoutes(app: FastifyInstance, deps: AnalysisRoutesDeps): Promise<void> {
  app.post<{ Params: ConversationIdParam }>(
    "/v1/convai/conversations/:conversation_id/analysis/run",
    { schema: { params: conversationIdParams } },
    async (request, reply) => {
      const body = await runAndRender(deps, request.params.conversation_id, { kind: "full" }, request.log);
      reply.type("application/json");
      return body;
    },
  );

  app.post<{
    Params: ConversationIdParam;
    Body: { evaluation_id: string; scope?: "conversation" | "agent" | null };
  }>(
    "/v1/convai/conversations/:conversation_id/analysis/evaluations/run",
    { schema: { params: conversationIdParams, body: evaluationBodySchema } },
    async (request, reply) => {
      const body = await runAndRender(
        deps,
        request.params.conversation_id,
        {
          kind: "criterion",
          criterionId: request.body.evaluation_id,
          scope: request.body.scope ?? "conversation",
        },
        request.log,
      );
      reply.type("application/json");
      return body;
    },
  );

  app.put<{ Params: AgentIdParam; Body: AnalysisSettings }>(
    "/ingest/v1/agents/:agent_id/analysis-settings",
    { schema: { params: agentIdParams, body: analysisSettingsSchema } },
    async (request, reply) => {
      const duplicate = findDuplicateCriterion(request.body);
      if (duplicate !== undefined) {
        throw new ValidationFailed([
          {
            loc: ["body", "evaluation_criteria"],
            msg: `Criterion id ${duplicate} is given twice`,
            type: "value_error",
          },
        ]);
      }
      const settings: AnalysisSettings = {
        evaluation_criteria: request.body.evaluation_criteria,
        data_collection: request.body.data_collection,
      };
      const outcome = await deps.analysisSettings.putAnalysisSettings(
        request.params.agent_id,
        JSON.stringify(settings),
      );
      reply.code(outcome === "created" ? 201 : 200);
      return { agent_id: request.params.agent_id, ...settings };
    },
  );

  app.get<{ Params: AgentIdParam }>(
    "/ingest/v1/agents/:agent_id/analysis-settings",
    { schema: { params: agentIdParams } },
    async (request) => ({
      agent_id: request.params.agent_id,
      ...(await loadIngestAnalysisSettings(deps.analysisSettings, request.params.agent_id)),
    }),
  );
}
