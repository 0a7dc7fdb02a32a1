/**
 * The machine-readable description of the API: `GET /openapi.json` (OpenAPI 3.1) and a page that
 * renders it at `/docs`, both served from this package with no other origin involved. Parameters,
 * query strings and bodies come from the route schemas that validate them (read by
 * @fastify/swagger as routes are registered); what routes check in code (a conversation document,
 * raw uploads, signed webhooks) and the answers are described in ingest-operations.ts and
 * conversation-operations.ts, from the same schema objects the server validates with.
 */
import { readFileSync } from "node:fs";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { ANSWERED_WHILE_STOPPING } from "../health/stopping-guard.js";
import type { PublicRoutes } from "../public-routes.js";
import { AGENT_OPERATIONS } from "./agent-operations.js";
import { CONVERSATION_OPERATIONS } from "./conversation-operations.js";
import { INGEST_OPERATIONS } from "./ingest-operations.js";
import { ERROR_RESPONSE_SCHEMA, errorResponses, type OperationDoc } from "./response-docs.js";
import { RUNTIME_OPERATIONS } from "./runtime-operations.js";
import { WEBHOOK_DELIVERY_OPERATIONS } from "./webhook-delivery-operations.js";
import { WEBHOOK_OPERATIONS } from "./webhook-operations.js";
import { wireComponentSchemas } from "./wire-components.js";

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = "/openapi.json";

/** Where the page that renders it is served (its assets under `/docs/static/`). */
export const DOCS_PREFIX = "/docs";

/** Every described operation, by `METHOD /route/:param` as the route is registered. */
const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  ...INGEST_OPERATIONS,
  ...CONVERSATION_OPERATIONS,
  ...AGENT_OPERATIONS,
  ...RUNTIME_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...WEBHOOK_DELIVERY_OPERATIONS,
};

/** Only this origin: the page's scripts, styles and the document it loads are all served here. */
const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  // Swagger UI sets style attributes on the elements it renders.
  "style-src 'self' 'unsafe-inline'",
].join("; ");

/** The version in package.json, three folders up from both src/api/openapi/ and dist/api/openapi/. */
function readPackageVersion(): string {
  const text = readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** A route path in OpenAPI's form: `/a/:id` becomes `/a/{id}`. */
function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

type Operation = Record<string, unknown> & { parameters?: unknown[] };

/**
 * Removes the request validator's own `finite` keyword (path-params.ts) from the generated
 * schemas: it is no JSON Schema keyword, and what it refuses (`Infinity`, `1e400`) is no JSON
 * number either, which the info description says.
 */
function dropFiniteKeyword(node: unknown): void {
  if (Array.isArray(node)) for (const item of node) dropFiniteKeyword(item);
  else if (node !== null && typeof node === "object") {
    const schema = node as Record<string, unknown>;
    if (schema.finite === true) delete schema.finite;
    for (const value of Object.values(schema)) dropFiniteKeyword(value);
  }
}

/** What a 503 of any route but the exempt ones may also mean. */
const STOPPING_503 = "Also from SIGTERM on: the server is stopping (`shutting_down`: retry on another node).";

/** The 503 any route can answer, for operations that declare no 503 of their own. */
const ANY_ROUTE_503 = errorResponses([503], {
  503: `(PostgreSQL) A query ran past the statement timeout (\`query_timeout\`: narrow the request). ${STOPPING_503}`,
});

/** The paths still answered while the server stops, in OpenAPI's form. */
const STOPPING_EXEMPT = new Set([...ANSWERED_WHILE_STOPPING].map(toOpenApiPath));

/** Adds to each generated operation what its route schemas cannot say; the document's components. */
function describeOperations(document: Record<string, unknown>): Record<string, unknown> {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  dropFiniteKeyword(paths);
  for (const [key, doc] of Object.entries(OPERATIONS)) {
    const [method = "", url = ""] = key.split(" ");
    const operation = paths[toOpenApiPath(url)]?.[method.toLowerCase()];
    if (!operation) continue;
    operation.summary = doc.summary;
    if (doc.description) operation.description = doc.description;
    operation.tags = [doc.tag];
    if (doc.requestBody) operation.requestBody = { required: true, ...doc.requestBody };
    operation.responses = doc.responses;
    if (doc.auth !== undefined) operation.security = [];
    if (doc.auth === "webhook_signature") {
      operation.parameters = [
        ...(operation.parameters ?? []),
        {
          in: "header",
          name: "ElevenLabs-Signature",
          required: true,
          description: "`t=<unix secs>,v0=<hex HMAC-SHA256 of '<t>.<body>' with the webhook secret>`.",
          schema: { type: "string" },
        },
      ];
    }
  }
  // Every route can answer 503: from SIGTERM on (`shutting_down`), and on PostgreSQL when a
  // query runs past the statement timeout (`query_timeout`).
  // The routes still answered while the server stops never send `shutting_down`.
  for (const [openApiPath, item] of Object.entries(paths)) {
    if (STOPPING_EXEMPT.has(openApiPath)) continue;
    for (const operation of Object.values(item)) {
      const responses = (operation.responses ?? {}) as Record<string, { description?: string }>;
      const own = responses["503"];
      if (own === undefined) operation.responses = { ...responses, ...ANY_ROUTE_503 };
      else if (!own.description?.includes("shutting_down")) {
        responses["503"] = { ...own, description: `${own.description ?? ""} ${STOPPING_503}`.trim() };
      }
    }
  }
  const components = (document.components ?? {}) as Record<string, unknown>;
  components.schemas = {
    ...(components.schemas as Record<string, unknown> | undefined),
    ...wireComponentSchemas(),
    ErrorResponse: ERROR_RESPONSE_SCHEMA,
  };
  document.components = components;
  // A copy, so that parts shared by several operations are not written as YAML aliases (`/docs/yaml`).
  return JSON.parse(JSON.stringify(document)) as Record<string, unknown>;
}

/** Starts collecting the routes for the OpenAPI document: register it before any route. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "openconvai",
        version: readPackageVersion(),
        description:
          "A self-hosted server for the ElevenLabs Agents Conversations API. `Ingest` is this server's own " +
          "API for getting conversations in (docs/ingest.md); `Conversations` and `Agents` are upstream's " +
          "resources as served here, with the extensions docs/compatibility.md lists. Errors use upstream's " +
          "envelopes. Numbers in query strings must be finite (`Infinity` and `1e400` are refused).",
      },
      tags: [
        { name: "Ingest", description: "This server's own API: conversations, audio and agent settings in." },
        { name: "Conversations", description: "Upstream's conversations resource, with our extensions." },
        { name: "Agents", description: "Upstream's Agents API: agents' configuration documents." },
        {
          name: "Webhooks",
          description:
            "Outgoing post-call webhooks: upstream's workspace webhooks and ConvAI settings, and this server's delivery log (docs/webhooks-out.md).",
        },
        { name: "Server", description: "The server itself." },
      ],
      components: {
        securitySchemes: {
          ApiKey: {
            type: "apiKey",
            in: "header",
            name: "xi-api-key",
            description:
              "A key made with `npx openconvai keys create` (or `openconvai keys create` after `npm link`).",
          },
        },
      },
      security: [{ ApiKey: [] }],
    },
    transformObject: (generated) =>
      "openapiObject" in generated
        ? (describeOperations(
            generated.openapiObject as Record<string, unknown>,
          ) as typeof generated.openapiObject)
        : generated.swaggerObject,
  });
}

/**
 * Serves the document and the page. They hold no data, so they need no API key: every route
 * registered here is added to `publicRoutes`, which the auth hook lets through (by route, so
 * nothing else can be reached this way).
 */
export async function registerApiDocs(app: FastifyInstance, publicRoutes: PublicRoutes): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onRoute", (route) => {
      publicRoutes.add(route.method, route.url);
    });
    scope.get(OPENAPI_PATH, { schema: { hide: true } }, async () => scope.swagger());
    await scope.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      staticCSP: DOCS_CSP,
      theme: { title: "openconvai API" },
      uiConfig: { deepLinking: true, docExpansion: "list" },
    });
  });
}
