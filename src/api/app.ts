import { randomUUID } from "node:crypto";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { ApiKeyService } from "../auth/api-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import type { IngestService } from "../conversations/conversation-service.js";
import type { SignatureSettings } from "../ingest/webhook-signature.js";
import type { AiServices } from "../providers/ai-services.js";
import type { Database } from "../store/store.js";
import { analysisRoutes } from "./analysis/analysis-routes.js";
import { ApiError, ValidationFailed, type ValidationIssue } from "./api-error.js";
import { conversationRoutes } from "./conversations/conversation-routes.js";
import { feedbackRoutes } from "./conversations/feedback-routes.js";
import { fileRoutes } from "./conversations/file-routes.js";
import { resolveRoutes } from "./conversations/resolve-routes.js";
import { sipMessageRoutes } from "./conversations/sip-message-routes.js";
import { ingestRoutes } from "./ingest/ingest-routes.js";
import { sipMessageIngestRoutes } from "./ingest/sip-message-ingest-routes.js";
import { topicIngestRoutes } from "./ingest/topic-ingest-routes.js";
import { messageSearchRoutes } from "./search/message-search-routes.js";
import { tagRoutes } from "./tags/tag-routes.js";
import { topicRoutes } from "./topics/topic-routes.js";
import { ELEVENLABS_WEBHOOK_PATH, webhookRoutes } from "./webhooks/webhook-routes.js";

/** Size limits for request bodies. */
export interface BodyLimits {
  /** JSON bodies (a conversation document). */
  jsonBytes: number;
  /** Raw audio uploads. */
  audioBytes: number;
  /** One file uploaded to a conversation (`POST …/files`). */
  fileBytes: number;
}

/** What the HTTP layer is built from. */
export interface AppServices {
  db: Database;
  blobs: BlobStore;
  keys: ApiKeyService;
  ingest: IngestService;
  limits: BodyLimits;
  logger: Logger;
  /** Secrets and tolerance of the ElevenLabs webhook receiver; without secrets it answers 503. */
  webhookSettings?: SignatureSettings;
  /** Model providers: semantic search and analysis run when they are configured. */
  ai?: AiServices;
}

const LOCATIONS: Record<string, string> = {
  querystring: "query",
  params: "path",
  body: "body",
  headers: "header",
};

interface AjvLikeError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Maps Fastify's schema errors to FastAPI-style issues, the shape upstream's 422s have. */
function toIssues(errors: AjvLikeError[], context: string | undefined): ValidationIssue[] {
  const where = LOCATIONS[context ?? "body"] ?? "body";
  return errors.map((e) => {
    const path = e.instancePath
      .split("/")
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    switch (e.keyword) {
      case "required":
        return {
          loc: [where, ...path, String(e.params.missingProperty)],
          msg: "Field required",
          type: "missing",
        };
      case "maximum":
        return {
          loc: [where, ...path],
          msg: `Input should be less than or equal to ${e.params.limit}`,
          type: "less_than_equal",
        };
      case "minimum":
        return {
          loc: [where, ...path],
          msg: `Input should be greater than or equal to ${e.params.limit}`,
          type: "greater_than_equal",
        };
      case "maxLength":
        return {
          loc: [where, ...path],
          msg: `String should have at most ${e.params.limit} character${e.params.limit === 1 ? "" : "s"}`,
          type: "string_too_long",
        };
      case "minLength":
        return {
          loc: [where, ...path],
          msg: `String should have at least ${e.params.limit} character${e.params.limit === 1 ? "" : "s"}`,
          type: "string_too_short",
        };
      case "maxItems":
        return {
          loc: [where, ...path],
          msg: `List should have at most ${e.params.limit} items`,
          type: "too_long",
        };
      case "enum":
        return {
          loc: [where, ...path],
          msg: `Input should be ${(e.params.allowedValues as unknown[]).map((v) => `'${v}'`).join(", ")}`,
          type: "enum",
        };
      case "type": {
        const t = String(e.params.type);
        const type =
          t === "integer"
            ? "int_parsing"
            : t === "number"
              ? "float_parsing"
              : t === "boolean"
                ? "bool_parsing"
                : `${t}_type`;
        const msg =
          t === "integer"
            ? "Input should be a valid integer"
            : t === "number"
              ? "Input should be a valid number"
              : t === "boolean"
                ? "Input should be a valid boolean"
                : `Input should be a valid ${t}`;
        return { loc: [where, ...path], msg, type };
      }
      default:
        return { loc: [where, ...path], msg: e.message ?? "Invalid value", type: e.keyword };
    }
  });
}

/** Logs one line per request when it completes; paths only (query strings can carry search text). */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      path: request.url.split("?")[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, "request failed");
    else reply.log.info(line, "request");
  }
}

/** Builds the HTTP server: routes, auth, and the one error handler that renders upstream's envelopes. */
export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    logController: new OneLinePerRequest(),
    bodyLimit: services.limits.jsonBytes,
    // Above the 512-character id limit, so that the route schemas report an over-long id as a
    // 422 naming the parameter; only absurd paths are stopped by the router (see frameworkErrors).
    routerOptions: { maxParamLength: 4096 },
    // Errors the router raises before any route runs; rendered in upstream's 422 envelope too.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const issue =
        error.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? { loc: ["path"], msg: "A path parameter is too long", type: "string_too_long" }
          : { loc: ["path"], msg: "The path is not valid percent-encoded UTF-8", type: "value_error" };
      // No hooks run for these, so the request id header is set here.
      reply
        .code(422)
        .header("x-request-id", request.id)
        .send({ detail: [issue] });
    },
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    ajv: { customOptions: { coerceTypes: "array", allErrors: true, useDefaults: true } },
    // On shutdown, idle keep-alive connections close at once; requests in flight finish first.
    forceCloseConnections: "idle",
    return503OnClosing: true,
  });

  app.addHook("onRequest", async (request, reply) => {
    // Set first, so every answer carries it, errors included (the SDK reads it as requestId).
    reply.header("x-request-id", request.id);
    if (request.url === "/healthz") return;
    // The webhook receiver authenticates each delivery by its signature instead of an API key.
    if (request.url.split("?")[0] === ELEVENLABS_WEBHOOK_PATH) return;
    const key = request.headers["xi-api-key"];
    const ok = await services.keys.verify(Array.isArray(key) ? key[0] : key);
    if (!ok) {
      throw new ApiError(
        401,
        "invalid_api_key",
        key === undefined
          ? "Missing API key: send it in the xi-api-key header (create one with `openconvai keys create`)."
          : "Invalid API key: check the xi-api-key header, or create a key with `openconvai keys create`.",
      );
    }
  });

  app.setErrorHandler((error: FastifyError | ApiError | ValidationFailed, request, reply) => {
    if (error instanceof ValidationFailed) return reply.code(422).send(error.toBody());
    if (error instanceof ApiError) {
      if (error.cause) request.log.warn({ err: error.cause }, error.message);
      return reply.code(error.statusCode).send(error.toBody());
    }
    if ("validation" in error && error.validation) {
      return reply
        .code(422)
        .send({ detail: toIssues(error.validation as AjvLikeError[], error.validationContext) });
    }
    switch (error.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return reply
          .code(413)
          .send(
            new ApiError(
              413,
              "payload_too_large",
              `The request body is larger than the limit of ${services.limits.jsonBytes} bytes.`,
            ).toBody(),
          );
      case "FST_ERR_CTP_INVALID_JSON_BODY":
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        // compat: upstream (FastAPI) answers malformed JSON with a 422 `json_invalid` issue.
        return reply.code(422).send({
          detail: [{ loc: ["body"], msg: `JSON decode error: ${error.message}`, type: "json_invalid" }],
        });
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return reply.code(415).send(new ApiError(415, "unsupported_media_type", error.message).toBody());
    }
    if (error instanceof SyntaxError || (error as FastifyError).statusCode === 400) {
      return reply.code(422).send({
        detail: [{ loc: ["body"], msg: `JSON decode error: ${error.message}`, type: "json_invalid" }],
      });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: { status: "invalid_request", message: error.message } });
    }
    request.log.error({ err: error }, "request failed");
    return reply
      .code(500)
      .send(
        new ApiError(
          500,
          "internal_error",
          "Internal server error; see the server log for the request id.",
        ).toBody(),
      );
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        new ApiError(
          404,
          "not_found",
          `No route for ${request.method} ${request.url.split("?")[0]}.`,
        ).toBody(),
      );
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  await app.register(async (scope) => conversationRoutes(scope, services));
  await app.register(async (scope) => ingestRoutes(scope, services));
  await app.register(async (scope) => feedbackRoutes(scope, services));
  await app.register(async (scope) => fileRoutes(scope, services));
  await app.register(async (scope) => resolveRoutes(scope, services));
  await app.register(async (scope) => sipMessageRoutes(scope, services));
  await app.register(async (scope) => tagRoutes(scope, services));
  await app.register(async (scope) => topicRoutes(scope, services));
  await app.register(async (scope) => sipMessageIngestRoutes(scope, services));
  await app.register(async (scope) => topicIngestRoutes(scope, services));
  await app.register(async (scope) => webhookRoutes(scope, services));
  await app.register(async (scope) => messageSearchRoutes(scope, services));
  await app.register(async (scope) => analysisRoutes(scope, services));
  return app;
}
