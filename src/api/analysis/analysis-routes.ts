import type { FastifyInstance } from "fastify";
import { InvalidAnswerError } from "../../analysis/analysis-answer.js";
import { type AnalysisRun, loadAnalysisSettings, runAnalysis } from "../../analysis/analysis-service.js";
import {
  type AnalysisSettings,
  analysisSettingsSchema,
  findDuplicateCriterion,
} from "../../analysis/analysis-settings.js";
import { renderStoredDocument } from "../../domain/conversation.js";
import type { ChatClient } from "../../providers/chat-client.js";
import { ProviderError } from "../../providers/provider-error.js";
import { ApiError, conversationNotFound, ValidationFailed } from "../api-error.js";
import type { AppServices } from "../app.js";

const conversationParams = {
  type: "object",
  properties: { conversation_id: { type: "string", minLength: 1, maxLength: 512 } },
  required: ["conversation_id"],
} as const;

const agentParams = {
  type: "object",
  properties: { agent_id: { type: "string", minLength: 1, maxLength: 512 } },
  required: ["agent_id"],
} as const;

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

/** Runs an analysis and renders the conversation, mapping failures to upstream-shaped errors. */
async function runAndRender(
  services: AppServices,
  llm: ChatClient,
  conversationId: string,
  run: AnalysisRun,
): Promise<string> {
  let outcome: Awaited<ReturnType<typeof runAnalysis>>;
  try {
    outcome = await runAnalysis(services.db, llm, conversationId, run);
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
  if (!outcome.ok) {
    if (outcome.reason === "criterion_not_found") {
      throw new ApiError(
        404,
        "evaluation_criterion_not_found",
        `The agent has no evaluation criterion ${outcome.criterionId}; define it with PUT /ingest/v1/agents/{agent_id}/analysis-settings.`,
      );
    }
    throw conversationNotFound(conversationId);
  }
  const stored = await services.db.conversations.getConversation(conversationId);
  if (!stored) throw conversationNotFound(conversationId);
  return renderStoredDocument(stored.json, { hasAudio: stored.audio !== null });
}

/** Post-call analysis (`…/analysis/run`, `…/analysis/evaluations/run`) and the per-agent settings it uses. */
export async function analysisRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.post<{ Params: { conversation_id: string } }>(
    "/v1/convai/conversations/:conversation_id/analysis/run",
    { schema: { params: conversationParams } },
    async (request, reply) => {
      const llm = services.ai?.llm;
      if (!llm) throw notConfigured();
      const body = await runAndRender(services, llm, request.params.conversation_id, { kind: "full" });
      reply.type("application/json");
      return body;
    },
  );

  app.post<{
    Params: { conversation_id: string };
    Body: { evaluation_id: string; scope?: "conversation" | "agent" | null };
  }>(
    "/v1/convai/conversations/:conversation_id/analysis/evaluations/run",
    { schema: { params: conversationParams, body: evaluationBodySchema } },
    async (request, reply) => {
      const llm = services.ai?.llm;
      if (!llm) throw notConfigured();
      const body = await runAndRender(services, llm, request.params.conversation_id, {
        kind: "criterion",
        criterionId: request.body.evaluation_id,
        scope: request.body.scope ?? "conversation",
      });
      reply.type("application/json");
      return body;
    },
  );

  app.put<{ Params: { agent_id: string }; Body: AnalysisSettings }>(
    "/ingest/v1/agents/:agent_id/analysis-settings",
    { schema: { params: agentParams, body: analysisSettingsSchema } },
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
      const outcome = await services.db.analysisSettings.putAnalysisSettings(
        request.params.agent_id,
        JSON.stringify(settings),
      );
      reply.code(outcome === "created" ? 201 : 200);
      return { agent_id: request.params.agent_id, ...settings };
    },
  );

  app.get<{ Params: { agent_id: string } }>(
    "/ingest/v1/agents/:agent_id/analysis-settings",
    { schema: { params: agentParams } },
    async (request) => ({
      agent_id: request.params.agent_id,
      ...(await loadAnalysisSettings(services.db, request.params.agent_id)),
    }),
  );
}
