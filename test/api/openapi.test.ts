import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analysisSettingsSchema } from "../../src/analysis/analysis-settings.js";
import { CONSOLE_PAGES } from "../../src/api/console/console-routes.js";
import { ANSWERED_WHILE_STOPPING } from "../../src/api/health/stopping-guard.js";
import { MAX_SIP_MESSAGES } from "../../src/api/ingest/sip-message-ingest-routes.js";
import { MAX_TOPICS_PER_AGENT } from "../../src/api/ingest/topic-ingest-routes.js";
import wireSchemas from "../../src/conversations/wire-schemas.json" with { type: "json" };
import { buildConversation } from "../fixtures/conversations.js";
import { putConversation } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// biome-ignore lint/suspicious/noExplicitAny: the parsed document is walked freely by the assertions.
type Json = Record<string, any>;

/** The routes our docs list (docs/ingest.md): each must be described, whatever else is. */
const OWN_ROUTES = [
  "PUT /ingest/v1/conversations/{conversation_id}",
  "PUT /ingest/v1/conversations/{conversation_id}/audio",
  "PUT /ingest/v1/conversations/{conversation_id}/sip-messages",
  "PUT /ingest/v1/agents/{agent_id}/topics",
  "PUT /ingest/v1/agents/{agent_id}/analysis-settings",
  "GET /ingest/v1/agents/{agent_id}/analysis-settings",
  "POST /ingest/v1/webhooks/elevenlabs",
  "GET /healthz",
  "GET /readyz",
];

/** The page and the document themselves, and the console's pages and files, which are not API operations. */
const isDocsRoute = (path: string) =>
  path === "/openapi.json" ||
  path === "/docs" ||
  path.startsWith("/docs/") ||
  CONSOLE_PAGES.includes(path) ||
  path === "/index.html" ||
  path.startsWith("/assets/");

/**
 * Every route the server registered, as `METHOD /path/{param}`, read from Fastify's route tree
 * (printRoutes: one node a line, each indented 4 characters under its parent, whose text it extends).
 */
function registeredRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^([│├└─\s]*)(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? "").length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? "") + match[2];
    stack[depth] = path;
    for (const method of match[3]?.split(", ") ?? []) {
      if (method === "HEAD" || isDocsRoute(path)) continue;
      routes.push(`${method} ${path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
    }
  }
  return routes;
}

/** Every operation of the document, as `METHOD /path`. */
function documentedOperations(doc: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, operation] of Object.entries<Json>(item))
      out.set(`${method.toUpperCase()} ${path}`, operation);
  }
  return out;
}

/** Every `$ref` value anywhere in a JSON value. */
function collectRefs(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, into);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") into.push(value);
      else collectRefs(value, into);
    }
  }
  return into;
}

/** Follows a local JSON pointer (`#/a/b~1c`). */
function resolvePointer(doc: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split("/")
    .map((part) => decodeURIComponent(part).replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], doc);
}

/** A JSON pointer to a part of the document, for Ajv. */
const pointer = (...parts: string[]) =>
  `openapi#/${parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;

// The document depends on the routes, not on the store, so one backend is enough here.
describe("OpenAPI description (/openapi.json, /docs)", () => {
  let server: TestServer;
  let doc: Json;

  beforeAll(async () => {
    server = await startTestServer("sqlite");
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Json;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers an OpenAPI 3.1 document without an API key", async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe("string");
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      expect(path).toMatch(/^\//);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, operation] of Object.entries<Json>(item)) {
        expect(["get", "put", "post", "delete", "patch"]).toContain(method);
        const pathParams = (operation.parameters ?? []).filter((p: Json) => p.in === "path");
        expect(pathParams.map((p: Json) => p.name).sort(), `${method} ${path}`).toEqual(
          [...templated].sort(),
        );
        for (const p of pathParams) expect(p.required).toBe(true);
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
        for (const [status, response] of Object.entries<Json>(operation.responses)) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          expect(typeof response.description).toBe("string");
        }
      }
    }
  });

  it("describes every route the server registers, and only those", () => {
    const registered = registeredRoutes(server.server.app.printRoutes());
    for (const own of OWN_ROUTES) expect(registered).toContain(own);
    const documented = documentedOperations(doc);
    for (const route of registered) {
      const operation = documented.get(route);
      expect(operation, `${route} is not in /openapi.json`).toBeDefined();
      expect(operation?.summary ?? "", `${route} has no summary: describe it in src/api/openapi/`).toMatch(
        /\S/,
      );
      expect(operation?.tags?.length, `${route} has no tag`).toBeGreaterThan(0);
      for (const response of Object.values<Json>(operation?.responses ?? {})) {
        expect(response.description, `${route} has an undescribed response`).not.toBe("Default Response");
      }
    }
    expect([...documented.keys()].sort()).toEqual([...registered].sort());
  });

  it("lists 503 with shutting_down on every operation but those answered while the server stops", () => {
    for (const [route, operation] of documentedOperations(doc)) {
      const described = JSON.stringify(operation.responses?.["503"] ?? null);
      const path = route.split(" ")[1]?.replace(/\{([^}]+)\}/g, ":$1") ?? "";
      if (ANSWERED_WHILE_STOPPING.has(path)) expect(described, route).not.toContain("retry on another node");
      else expect(described, `${route} does not list 503 shutting_down`).toContain("shutting_down");
    }
    const get = documentedOperations(doc).get("GET /v1/convai/conversations/{conversation_id}");
    expect(JSON.stringify(get?.responses?.["503"])).toContain("query_timeout");
  });

  it("resolves every reference, and every schema compiles as JSON Schema 2020-12", () => {
    for (const ref of collectRefs(doc)) {
      expect(ref).toMatch(/^#\//);
      expect(resolvePointer(doc, ref), ref).toBeDefined();
    }
    // Unknown keywords are errors (strictSchema): OpenAPI's own `discriminator` is the one allowed.
    const ajv = new Ajv2020({
      strictSchema: true,
      strictTypes: false,
      strictRequired: false,
      validateFormats: false,
    });
    ajv.addVocabulary(["discriminator", ...Object.keys(doc)]);
    ajv.addSchema(doc, "openapi");
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => ajv.getSchema(pointer("components", "schemas", name)), name).not.toThrow();
    }
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, operation] of Object.entries<Json>(item)) {
        for (const [i, parameter] of (operation.parameters ?? []).entries()) {
          expect(parameter.schema, `${method} ${path} ${parameter.name}`).toBeDefined();
          ajv.getSchema(pointer("paths", path, method, "parameters", String(i), "schema"));
        }
        for (const type of Object.keys(operation.requestBody?.content ?? {})) {
          ajv.getSchema(pointer("paths", path, method, "requestBody", "content", type, "schema"));
        }
        for (const [status, response] of Object.entries<Json>(operation.responses)) {
          for (const type of Object.keys(response.content ?? {})) {
            ajv.getSchema(pointer("paths", path, method, "responses", status, "content", type, "schema"));
          }
        }
      }
    }
  });

  it("takes its body schemas from the schemas that validate the routes", () => {
    const documented = documentedOperations(doc);
    const put = documented.get("PUT /ingest/v1/conversations/{conversation_id}");
    expect(put?.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/GetConversationResponseModel",
    });
    const wire = (wireSchemas as Json).$defs.GetConversationResponseModel;
    const component = doc.components.schemas.GetConversationResponseModel;
    expect(component.required).toEqual(wire.required);
    expect(Object.keys(component.properties)).toEqual(Object.keys(wire.properties));
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(Object.keys((wireSchemas as Json).$defs)),
    );

    const sip = documented.get("PUT /ingest/v1/conversations/{conversation_id}/sip-messages");
    expect(sip?.requestBody.content["application/json"].schema.maxItems).toBe(MAX_SIP_MESSAGES);
    const topics = documented.get("PUT /ingest/v1/agents/{agent_id}/topics");
    expect(topics?.requestBody.content["application/json"].schema.maxItems).toBe(MAX_TOPICS_PER_AGENT);
    const settings = documented.get("PUT /ingest/v1/agents/{agent_id}/analysis-settings");
    expect(Object.keys(settings?.requestBody.content["application/json"].schema.properties)).toEqual(
      Object.keys(analysisSettingsSchema.properties),
    );
  });

  it("describes what the ingest PUT really answers, created and refused", async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(doc, "openapi");
    const path = "/ingest/v1/conversations/{conversation_id}";
    const schemaOf = (status: string) =>
      ajv.getSchema(
        pointer("paths", path, "put", "responses", status, "content", "application/json", "schema"),
      );

    const created = await putConversation(
      server,
      buildConversation({ id: "conv_openapi", agentId: "agent_oa" }),
    );
    expect(created.status).toBe(201);
    const validCreated = schemaOf("201");
    expect(validCreated?.(await created.json()), JSON.stringify(validCreated?.errors)).toBe(true);

    const refused = await putConversation(server, { agent_id: "agent_oa" }, "conv_openapi_bad");
    expect(refused.status).toBe(422);
    const validRefused = schemaOf("422");
    expect(validRefused?.(await refused.json()), JSON.stringify(validRefused?.errors)).toBe(true);
  });

  it("says which routes need the API key: all but the webhook receiver, the health check and the WebRTC token", () => {
    expect(doc.components.securitySchemes.ApiKey).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "xi-api-key",
    });
    expect(doc.security).toEqual([{ ApiKey: [] }]);
    const documented = documentedOperations(doc);
    const webhook = documented.get("POST /ingest/v1/webhooks/elevenlabs");
    expect(webhook?.security).toEqual([]);
    expect(webhook?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: "header", name: "ElevenLabs-Signature" })]),
    );
    expect(documented.get("GET /healthz")?.security).toEqual([]);
    expect(documented.get("GET /readyz")?.security).toEqual([]);
    // Browsers ask for a WebRTC token without a key; it answers 501 (WebSocket only) and reads nothing.
    expect(documented.get("GET /v1/convai/conversation/token")?.security).toEqual([]);
    const public_ = new Set([
      "POST /ingest/v1/webhooks/elevenlabs",
      "GET /healthz",
      "GET /readyz",
      "GET /v1/convai/conversation/token",
    ]);
    for (const [route, operation] of documented) {
      if (!public_.has(route)) expect(operation.security, route).toBeUndefined();
    }
  });

  it("serves a docs page whose assets are all same-origin and load without a key", async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).not.toMatch(/https?:|\*/);
    const html = await page.text();
    const urls = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1] as string);
    expect(urls.length).toBeGreaterThan(2);
    const origin = new URL(server.url).origin;
    for (const url of urls) {
      const absolute = new URL(url, `${server.url}/docs`);
      expect(absolute.origin, url).toBe(origin);
      const asset = await fetch(absolute);
      expect(asset.status, url).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
    }

    // The page's script loads the document from here (./json) and asks no validator elsewhere.
    const initializer = await (await fetch(`${server.url}/docs/static/swagger-initializer.js`)).text();
    expect(initializer).toContain("resolveUrl('./json')");
    expect(initializer).toMatch(/validatorUrl: null/);
    const fromPage = await fetch(`${server.url}/docs/json`);
    expect(fromPage.status).toBe(200);
    expect(await fromPage.json()).toEqual(doc);
  });

  it("lets nothing else through without a key", async () => {
    expect((await fetch(`${server.url}/v1/convai/conversations`)).status).toBe(401);
    expect((await fetch(`${server.url}/ingest/v1/agents/agent_oa/analysis-settings`)).status).toBe(401);
    for (const path of [
      "/docs/static/..%2f..%2f..%2f..%2fpackage.json",
      "/docs/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json",
      "/docs/nothing-here",
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).not.toBe(200);
      expect(await response.text(), path).not.toContain('"name": "openconvai"');
    }
  });
});
