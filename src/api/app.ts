import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import websocket from "@fastify/websocket";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { AgentService } from "../agents/agent-service.js";
import type { ApiKeyService } from "../auth/api-keys.js";
import type { BlobStore } from "../blobs/blob-store.js";
import type { ConversationService } from "../conversations/conversation-service.js";
import type { InitiationFailureReporter } from "../conversations/post-call-webhooks.js";
import type { SignatureSettings } from "../ingest/webhook-signature.js";
import type { ModelProviders } from "../providers/model-providers.js";
import type { Brain } from "../runtime/brain.js";
import type { SemanticIndex } from "../search/semantic-index.js";
import type { Database } from "../store/store.js";
import type { DeliveryLog } from "../webhooks-out/delivery-log.js";
import type { WebhookSettingsService } from "../webhooks-out/webhook-settings-service.js";
import { agentRoutes } from "./agents/agent-routes.js";
import { analysisRoutes } from "./analysis/analysis-routes.js";
import { analyticsRoutes } from "./analytics/analytics-routes.js";
import { ApiError } from "./api-error.js";
import { consoleRoutes } from "./console/console-routes.js";
import { conversationRoutes } from "./conversations/conversation-routes.js";
import { feedbackRoutes } from "./conversations/feedback-routes.js";
import { fileRoutes } from "./conversations/file-routes.js";
import { resolveRoutes } from "./conversations/resolve-routes.js";
import { sipMessageRoutes } from "./conversations/sip-message-routes.js";
import { handleClientError, handleError, handleNoRoute, handleRouterError } from "./error-handler.js";
import { readinessRoutes } from "./health/readiness-routes.js";
import { refuseWhileStopping } from "./health/stopping-guard.js";
import { ingestRoutes } from "./ingest/ingest-routes.js";
import { sipMessageIngestRoutes } from "./ingest/sip-message-ingest-routes.js";
import { topicIngestRoutes } from "./ingest/topic-ingest-routes.js";
import { useJsonBodyParser } from "./json-body.js";
import { type MetricsExposition, metricsRoutes } from "./metrics/metrics-routes.js";
import { type RequestMetrics, useRequestMetrics } from "./metrics/request-metrics.js";
import { registerApiDocs, registerOpenApi } from "./openapi/api-docs.js";
import { FINITE_KEYWORD } from "./path-params.js";
import { PublicRoutes } from "./public-routes.js";
import {
  conversationSocketPluginOptions,
  conversationSocketRoutes,
  type LiveSessionOptions,
} from "./runtime/conversation-socket.js";
import { LiveSessions } from "./runtime/live-sessions.js";
import { signedUrlRoutes } from "./runtime/signed-url-routes.js";
import { messageSearchRoutes } from "./search/message-search-routes.js";
import { tagRoutes } from "./tags/tag-routes.js";
import { topicRoutes } from "./topics/topic-routes.js";
import { ELEVENLABS_WEBHOOK_PATH, webhookRoutes } from "./webhooks/webhook-routes.js";
import { convaiSettingsRoutes } from "./webhooks-out/convai-settings-routes.js";
import { webhookDeliveryRoutes } from "./webhooks-out/delivery-routes.js";
import { workspaceWebhookRoutes } from "./webhooks-out/workspace-webhook-routes.js";

/** Size limits for request bodies. */
export interface BodyLimits {
  /** JSON bodies (a conversation document). */
  jsonBytes: number;
  /** Raw audio uploads. */
  audioBytes: number;
  /** One file uploaded to a conversation (`POST …/files`). */
  fileBytes: number;
}

/** What the HTTP layer is built from; each route plugin is handed only the parts it uses. */
export interface AppOptions {
  db: Database;
  blobs: BlobStore;
  keys: ApiKeyService;
  /** The one write path of conversations. */
  conversations: ConversationService;
  /** The Agents API: agents' configuration documents. */
  agents: AgentService;
  limits: BodyLimits;
  logger: Logger;
  /** Secrets and tolerance of the ElevenLabs webhook receiver; without secrets it answers 503. */
  webhookSettings?: SignatureSettings;
  /** Model providers: semantic search and analysis run when they are configured. */
  ai?: ModelProviders;
  /** The ANN index semantic search answers from once it is ready (`OPENCONVAI_SEMANTIC_INDEX=ann`). */
  semanticIndex?: SemanticIndex | undefined;
  /** Where request bodies are spooled while they are checked (webhooks); default the OS temp dir. */
  tempDir?: string;
  /** How long a client may take to send a whole request, headers and body (default 120 s); then 408. */
  requestTimeoutMs?: number;
  /** OPENCONVAI_PUBLIC_URL: where signed URLs point; unset, the origin is read from each request. */
  publicUrl?: string;
  /** Live conversations: this node's limits and what happens around each session. */
  live?: LiveSessionOptions;
  /** The agents' mind in live conversations: the model-backed brain, or (unset) the development agent. */
  brain?: Brain;
  /** The built console, served at `/`; unset, no console. */
  consoleDir?: string;
  /** Prometheus metrics: every request is recorded; with a token, `GET /metrics` serves them (else no route). */
  metrics?: { requests: RequestMetrics; exposition: MetricsExposition; token: string | undefined };
  /** Outgoing webhooks: their configuration, the delivery log, and the reporter of sessions that could not start. */
  webhooksOut?: {
    settings: WebhookSettingsService;
    deliveries: DeliveryLog;
    initiationFailures: InitiationFailureReporter;
  };
}

/** A client's `x-request-id` is used (echoed and logged) only if it is short and plain; else a fresh one. */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
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
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { db, blobs, conversations, limits } = options;
  const requestTimeout = options.requestTimeoutMs ?? 120_000;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new OneLinePerRequest(),
    bodyLimit: limits.jsonBytes,
    // Above the 512-character id limit, so that the route schemas report an over-long id as a
    // 422 naming the parameter; only absurd paths are stopped by the router (see handleRouterError).
    routerOptions: { maxParamLength: 4096 },
    frameworkErrors: handleRouterError,
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers["x-request-id"]),
    // Node's parser errors (malformed request, headers too large, timeouts) in upstream's envelope.
    clientErrorHandler: handleClientError,
    // A request (headers and body) must arrive in time: a client trickling bytes is answered 408.
    requestTimeout,
    http: {
      requestTimeout,
      headersTimeout: Math.min(60_000, requestTimeout),
      // How often Node looks for expired requests (its default, 30 s, would let short timeouts slip).
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeout / 4))),
    },
    ajv: {
      customOptions: { coerceTypes: "array", allErrors: true, useDefaults: true, keywords: [FINITE_KEYWORD] },
    },
    // On shutdown, idle keep-alive connections close at once; requests in flight finish first.
    forceCloseConnections: "idle",
    return503OnClosing: true,
  });
  closeUnusedConnectionsOnClose(app);
  // Before any route: each route gets its own recorder.
  if (options.metrics) useRequestMetrics(app, options.metrics.requests);
  // Before any route, so that every route is in the OpenAPI document.
  await registerOpenApi(app);
  // The node's live sessions, which also say when it is stopping (SIGTERM): main.ts drains them.
  const liveSessions = options.live?.sessions ?? new LiveSessions();
  await app.register(websocket, conversationSocketPluginOptions(liveSessions));
  // The OpenAPI document and its page hold no data: they are served without an API key (by route).
  const docsRoutes = new PublicRoutes();

  app.addHook("onRequest", async (request, reply) => {
    // Set first, so every answer carries it, errors included (the SDK reads it as requestId).
    reply.header("x-request-id", request.id);
    const refused = refuseWhileStopping(liveSessions.stopping, request, reply);
    if (refused) return refused;
    if (request.url === "/healthz") return;
    if (docsRoutes.has(request.method, request.routeOptions.url)) return;
    // The webhook receiver authenticates each delivery by its signature instead of an API key.
    if (request.url.split("?")[0] === ELEVENLABS_WEBHOOK_PATH) return;
    const key = request.headers["xi-api-key"];
    const ok = await options.keys.verify(Array.isArray(key) ? key[0] : key);
    if (!ok) {
      // The body of an unauthenticated request is never read: the connection closes after the 401.
      if ((request.headers["content-length"] ?? "0") !== "0" || request.headers["transfer-encoding"]) {
        reply.header("connection", "close");
      }
      throw new ApiError(
        401,
        "invalid_api_key",
        key === undefined
          ? "Missing API key: send it in the xi-api-key header (create one with `npx openconvai keys create` in the server's folder)."
          : "Invalid API key: check the xi-api-key header, or create a key with `npx openconvai keys create` in the server's folder.",
      );
    }
  });

  app.setErrorHandler(handleError);
  useJsonBodyParser(app);
  app.setNotFoundHandler(handleNoRoute);

  const conversationStore = db.conversations;
  app.get("/healthz", async () => ({ status: "ok" }));
  await app.register(async (scope) =>
    readinessRoutes(scope, { db, blobs, stopping: () => liveSessions.stopping, publicRoutes: docsRoutes }),
  );
  await app.register(async (scope) => conversationRoutes(scope, { conversationStore, conversations, blobs }));
  await app.register(async (scope) => ingestRoutes(scope, { conversations, limits }));
  await app.register(async (scope) => feedbackRoutes(scope, { conversations }));
  await app.register(async (scope) =>
    fileRoutes(scope, { conversationStore, files: db.conversationFiles, blobs, limits }),
  );
  await app.register(async (scope) => resolveRoutes(scope, { conversationStore }));
  await app.register(async (scope) =>
    sipMessageRoutes(scope, { conversationStore, sipMessages: db.sipMessages }),
  );
  await app.register(async (scope) => tagRoutes(scope, { tags: db.tags, conversationStore, conversations }));
  await app.register(async (scope) => topicRoutes(scope, { topics: db.topics }));
  await app.register(async (scope) => sipMessageIngestRoutes(scope, { sipMessages: db.sipMessages }));
  await app.register(async (scope) => topicIngestRoutes(scope, { topics: db.topics }));
  await app.register(async (scope) =>
    webhookRoutes(scope, {
      webhooks: db.webhooks,
      conversationStore,
      conversations,
      blobs,
      limits,
      settings: options.webhookSettings,
      tempDir: options.tempDir ?? path.join(tmpdir(), "openconvai"),
    }),
  );
  await app.register(async (scope) =>
    messageSearchRoutes(scope, {
      messageSearch: db.messageSearch,
      conversationStore,
      embeddings: options.ai?.embeddings,
      semanticIndex: options.semanticIndex,
    }),
  );
  await app.register(async (scope) =>
    analysisRoutes(scope, {
      conversationStore,
      conversations,
      analysisSettings: db.analysisSettings,
      agents: options.agents,
      llm: options.ai?.llm,
    }),
  );
  await app.register(async (scope) => agentRoutes(scope, { agents: options.agents }));
  await app.register(async (scope) => analyticsRoutes(scope, { stats: db.conversationStats }));
  const webhooksOut = options.webhooksOut;
  if (webhooksOut) {
    await app.register(async (scope) => workspaceWebhookRoutes(scope, { settings: webhooksOut.settings }));
    await app.register(async (scope) => convaiSettingsRoutes(scope, { settings: webhooksOut.settings }));
    await app.register(async (scope) => webhookDeliveryRoutes(scope, { deliveries: webhooksOut.deliveries }));
  }
  await app.register(async (scope) =>
    signedUrlRoutes(scope, {
      agents: options.agents,
      signatures: db.conversationSignatures,
      publicUrl: options.publicUrl,
      publicRoutes: docsRoutes,
    }),
  );
  await app.register(async (scope) =>
    conversationSocketRoutes(scope, {
      ...options,
      conversationStore,
      analysisSettings: db.analysisSettings,
      signatures: db.conversationSignatures,
      publicRoutes: docsRoutes,
      liveSessions,
      ...(webhooksOut ? { initiationFailures: webhooksOut.initiationFailures } : {}),
    }),
  );
  const metrics = options.metrics;
  if (metrics?.token !== undefined) {
    const token = metrics.token;
    await app.register(async (scope) =>
      metricsRoutes(scope, { exposition: metrics.exposition, token, publicRoutes: docsRoutes }),
    );
  }
  await registerApiDocs(app, docsRoutes);
  if (options.consoleDir !== undefined) {
    const consoleDir = options.consoleDir;
    await app.register(async (scope) => consoleRoutes(scope, { consoleDir, publicRoutes: docsRoutes }));
  }
  return app;
}

/**
 * On shutdown, also closes connections that never sent a byte. Clients open them ahead of need
 * (a pool replacing a connection closed after a 401, say); Node's idle-connection close does not
 * count them as idle, so one would hold the shutdown until the headers timeout.
 */
function closeUnusedConnectionsOnClose(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  app.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  app.addHook("preClose", async () => {
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
  });
}
