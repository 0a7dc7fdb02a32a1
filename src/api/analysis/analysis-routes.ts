import type { FastifyInstance } from "fastify";
import { InvalidAnswerError } from "../../analysis/analysis-answer.js";
import {
  type AnalysisDeps,
  type AnalysisRun,
  loadAnalysisSettings,
  runAnalysis,
} from "../../analysis/analysis-service.js";
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

/** What the analysis routes use. */
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

/** Runs an analysis and renders the conversation as written, mapping model failures to 502s. */
async function runAndRender(
  deps: AnalysisRoutesDeps,
  conversationId: string,
  run: AnalysisRun,
): Promise<string> {
  if (!deps.llm) throw notConfigured();
  try {
    const written = await runAnalysis(deps, deps.llm, conversationId, run);
    return renderStoredDocument(written.json, { hasAudio: written.hasAudio });
  } catch (error) {
    if (error instanceof InvalidAnswerError) {
      throw new ApiError(502, "llm_invalid_output", `${error.message}. Nothing was written.`, {
        cause: error,
      });
    }
    if (error instanceof ProviderError) {
      throw new ApiError(502, "llm_provider_error", `${error.message}. Nothing was written.`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Post-call analysis (`…/analysis/run`, `…/analysis/evaluations/run`) and the per-agent settings it uses. */
export async function analysisRoutes(app: FastifyInstance, deps: AnalysisRoutesDeps): Promise<void> {
  app.post<{ Params: ConversationIdParam }>(
    "/v1/convai/conversations/:conversation_id/analysis/run",
    { schema: { params: conversationIdParams } },
    async (request, reply) => {
      const body = await runAndRender(deps, request.params.conversation_id, { kind: "full" });
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
      const body = await runAndRender(deps, request.params.conversation_id, {
        kind: "criterion",
        criterionId: request.body.evaluation_id,
        scope: request.body.scope ?? "conversation",
      });
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
      ...(await loadAnalysisSettings(deps.analysisSettings, request.params.agent_id)),
    }),
  );
}
