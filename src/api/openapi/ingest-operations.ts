/** The descriptions of our own routes: the ingest API (docs/ingest.md), the webhook receiver and the health check. */
import { analysisSettingsSchema } from "../../analysis/analysis-settings.js";
import { ELEVENLABS_WEBHOOK_PATH } from "../webhooks/webhook-routes.js";
import {
  BINARY_SCHEMA,
  conversationResponse,
  errorResponses,
  jsonResponse,
  type OperationDoc,
} from "./response-docs.js";
import { wireModelRef } from "./wire-components.js";

/** An agent's analysis settings as the routes answer them: the settings with the agent id. */
const ANALYSIS_SETTINGS_ANSWER = {
  ...analysisSettingsSchema,
  properties: { agent_id: { type: "string" }, ...analysisSettingsSchema.properties },
  required: ["agent_id", "evaluation_criteria", "data_collection"],
};

/** What the webhook receiver answers for every delivery it authenticated. */
const WEBHOOK_RECEIPT = {
  type: "object",
  properties: {
    status: { type: "string", enum: ["stored", "audio_pending", "ignored", "duplicate", "dead_letter"] },
    type: { type: "string", description: "The delivery's `type`." },
    conversation_id: { type: ["string", "null"] },
    reason: { type: "string", description: "Why a dead letter could not be applied." },
  },
  required: ["status", "type", "conversation_id"],
};

/** What each readiness check found (see src/api/health/readiness-routes.ts). */
const READINESS_CHECKS = {
  type: "object",
  properties: Object.fromEntries(
    ["migrations", "database", "blob_store", "accepting_work"].map((name) => [
      name,
      { type: "string", enum: ["ok", "failed", "timed_out"] },
    ]),
  ),
  required: ["migrations", "database", "blob_store", "accepting_work"],
};

/** The descriptions of the ingest routes, the webhook receiver, `/healthz` and `/readyz`, by `METHOD /route/:param`. */
export const INGEST_OPERATIONS: Record<string, OperationDoc> = {
  "GET /healthz": {
    tag: "Server",
    summary: "Health check",
    description: "Answers while the server runs. Needs no API key.",
    auth: "none",
    responses: {
      "200": jsonResponse("The server is up.", {
        type: "object",
        properties: { status: { type: "string", enum: ["ok"] } },
        required: ["status"],
      }),
    },
  },
  "GET /readyz": {
    tag: "Server",
    summary: "Readiness check",
    description:
      "Whether to send this node work: 200 when the database answers, the blob store can be written " +
      "and the schema migrations have run; 503 when a check fails or times out (2 s each), and from SIGTERM " +
      "on while the node drains. Needs no API key. For load balancers and Kubernetes' readiness probe; " +
      "see docs/operations.md.",
    auth: "none",
    responses: {
      "200": jsonResponse("Ready.", {
        type: "object",
        properties: { status: { type: "string", enum: ["ok"] }, checks: READINESS_CHECKS },
        required: ["status", "checks"],
      }),
      "503": jsonResponse(
        "Not ready (`not_ready`) or shutting down (`shutting_down`); `checks` says which check failed.",
        {
          type: "object",
          properties: {
            detail: {
              type: "object",
              properties: {
                status: { type: "string", enum: ["not_ready", "shutting_down"] },
                message: { type: "string" },
                checks: READINESS_CHECKS,
              },
              required: ["status", "message", "checks"],
            },
          },
          required: ["detail"],
        },
      ),
    },
  },
  "PUT /ingest/v1/conversations/:conversation_id": {
    tag: "Ingest",
    summary: "Create or replace a conversation",
    description:
      "The body is the conversation document in the shape `GET /v1/convai/conversations/{conversation_id}` " +
      "serves (the SDK's GetConversationResponseModel, the schema every stored document is checked against). " +
      "`conversation_id` may be left out: the path wins. The `has_*` keys are the server's and are replaced. " +
      "Unknown keys are kept; unknown enum values and union members are accepted, as the SDK accepts them. " +
      "Numbers must be finite and nesting is at most 64 levels.",
    requestBody: {
      description: "The conversation document.",
      content: { "application/json": { schema: wireModelRef("GetConversationResponseModel") } },
    },
    responses: {
      "200": conversationResponse("Replaced: the stored document."),
      "201": conversationResponse("Created: the stored document, as GET serves it."),
      ...errorResponses([401, 413, 422], {
        422: "Invalid document, malformed JSON or a bad id; nothing is written.",
      }),
    },
  },
  "PUT /ingest/v1/conversations/:conversation_id/audio": {
    tag: "Ingest",
    summary: "Store a conversation's audio",
    description:
      "The body is the raw recording; its `Content-Type` is kept and served back (default `audio/mpeg`). " +
      "Replaces earlier audio. The conversation must exist.",
    requestBody: {
      description: "The audio bytes.",
      content: {
        "audio/*": { schema: BINARY_SCHEMA },
        "application/octet-stream": { schema: BINARY_SCHEMA },
      },
    },
    responses: {
      "200": conversationResponse('Stored: the conversation document, now with `"has_audio":true`.'),
      ...errorResponses([401, 404, 413, 422], {
        404: "No such conversation (`conversation_not_found`): put the document first.",
        422: "Empty body, or a bad id.",
      }),
    },
  },
  "PUT /ingest/v1/conversations/:conversation_id/sip-messages": {
    tag: "Ingest",
    summary: "Replace a conversation's SIP log",
    description:
      "The body is an array of upstream's SipLogMessage, served by " +
      "`GET /v1/convai/conversations/{conversation_id}/sip-messages` in `created_at_unix_micro` order. " +
      "An empty array clears the log.",
    responses: {
      "200": jsonResponse("Stored.", {
        type: "object",
        properties: { conversation_id: { type: "string" }, sip_message_count: { type: "integer" } },
        required: ["conversation_id", "sip_message_count"],
      }),
      ...errorResponses([401, 404, 413, 422], {
        404: "No such conversation (`conversation_not_found`).",
      }),
    },
  },
  "PUT /ingest/v1/agents/:agent_id/topics": {
    tag: "Ingest",
    summary: "Replace an agent's topic definitions",
    description:
      "The topics `GET /v1/convai/agents/{agent_id}/topics` reports on. Topic ids are unique in the set; " +
      "a `parent_topic_id` names another top-level topic of the set. An empty array removes the agent's topics.",
    responses: {
      "200": jsonResponse("Stored.", {
        type: "object",
        properties: { agent_id: { type: "string" }, topic_count: { type: "integer" } },
        required: ["agent_id", "topic_count"],
      }),
      ...errorResponses([401, 413, 422], {
        422: "An invalid set; the previous definitions stay.",
      }),
    },
  },
  "PUT /ingest/v1/agents/:agent_id/analysis-settings": {
    tag: "Ingest",
    summary: "Set an agent's analysis settings",
    description:
      "The evaluation criteria and data-collection fields post-call analysis uses for the agent's " +
      "conversations. Criterion ids are unique.",
    responses: {
      "200": jsonResponse("Replaced.", ANALYSIS_SETTINGS_ANSWER),
      "201": jsonResponse("Created.", ANALYSIS_SETTINGS_ANSWER),
      ...errorResponses([401, 413, 422], { 422: "Invalid settings; the previous ones stay." }),
    },
  },
  "GET /ingest/v1/agents/:agent_id/analysis-settings": {
    tag: "Ingest",
    summary: "Read an agent's analysis settings",
    description: "An agent without settings has empty ones.",
    responses: {
      "200": jsonResponse("The settings.", ANALYSIS_SETTINGS_ANSWER),
      ...errorResponses([401, 422]),
    },
  },
  [`POST ${ELEVENLABS_WEBHOOK_PATH}`]: {
    tag: "Ingest",
    summary: "Receive an ElevenLabs post-call webhook",
    description:
      "Takes `post_call_transcription`, `post_call_audio` and `call_initiation_failure` deliveries as " +
      "ElevenLabs sends them, authenticated by the `ElevenLabs-Signature` header (`t=<unix secs>,v0=<hex " +
      "HMAC-SHA256 of '<t>.<body>'>`) instead of an API key. The body is read as raw bytes and checked " +
      "against the signature before it is parsed. Deliveries that cannot be applied answer 200 and are " +
      "kept as dead letters.",
    auth: "webhook_signature",
    requestBody: {
      description: "The delivery, exactly as ElevenLabs signed it.",
      content: {
        "application/json": {
          schema: {
            type: "object",
            properties: {
              type: {
                type: "string",
                description: "`post_call_transcription`, `post_call_audio` or `call_initiation_failure`.",
              },
              event_timestamp: { type: "number" },
              data: {
                type: "object",
                description:
                  "For `post_call_transcription`, a conversation document (GetConversationResponseModel); " +
                  "for `post_call_audio`, `agent_id`, `conversation_id` and `full_audio` (base64 MP3).",
              },
            },
            required: ["type", "data"],
          },
        },
      },
    },
    responses: {
      "200": jsonResponse("Authenticated and handled (or kept as a dead letter).", WEBHOOK_RECEIPT),
      ...errorResponses([400, 401, 413, 503], {
        400: "The body ended early; send it again.",
        401: "Missing, malformed, stale or wrong signature (`invalid_signature`).",
        503: "No webhook secret is configured (`webhooks_not_configured`): set OPENCONVAI_WEBHOOK_SECRETS.",
      }),
    },
  },
};
