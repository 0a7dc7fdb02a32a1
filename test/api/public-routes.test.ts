/**
 * Which routes answer without an API key: exactly the health and readiness checks, the webhook receiver (it
 * checks its signature instead), the WebRTC token (a documented 501), the agent WebSocket (it
 * authenticates each connection itself), and the OpenAPI document with its page. Every other
 * documented route, with every method, answers 401 `invalid_api_key` to a request with no key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PublicRoutes } from "../../src/api/public-routes.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** Routes served without a key, as `METHOD /path` of the OpenAPI document. */
const PUBLIC = new Set([
  "GET /healthz",
  "GET /readyz",
  "POST /ingest/v1/webhooks/elevenlabs",
  "GET /v1/convai/conversation/token",
  "GET /v1/convai/conversation",
]);

describe("routes served without an API key", () => {
  let server: TestServer;
  let operations: { method: string; path: string }[];

  beforeAll(async () => {
    server = await startTestServer("sqlite");
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses every other documented route and method with 401 invalid_api_key", async () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const { method, path } of operations) {
      const url = `${server.url}${path.replace(/\{[^}]+\}/g, "x")}`;
      const response = await fetch(url, { method });
      const body = method === "HEAD" ? "" : await response.text();
      const refused = response.status === 401 && body.includes('"invalid_api_key"');
      expect(refused, `${method} ${path} answered ${response.status} ${body.slice(0, 120)}`).toBe(
        !PUBLIC.has(`${method} ${path}`),
      );
    }
  });

  it("serves the OpenAPI document and its page without a key, and nothing under them by a look-alike path", async () => {
    expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${server.url}/docs`)).status).toBe(200);
    const lookAlike = await fetch(`${server.url}/openapi.json/../v1/convai/conversations`);
    expect([401, 404]).toContain(lookAlike.status);
    // A public GET route is not public for another method.
    const post = await fetch(`${server.url}/openapi.json`, { method: "POST" });
    expect(post.status).not.toBe(200);
  });
});

describe("PublicRoutes", () => {
  it("matches by method and route, with HEAD alongside GET", () => {
    const routes = new PublicRoutes();
    routes.add("GET", "/a/:id");
    routes.add(["POST"], "/b");
    expect(routes.has("GET", "/a/:id")).toBe(true);
    expect(routes.has("HEAD", "/a/:id")).toBe(true);
    expect(routes.has("DELETE", "/a/:id")).toBe(false);
    expect(routes.has("GET", "/b")).toBe(false);
    expect(routes.has("POST", "/b")).toBe(true);
    expect(routes.has("GET", undefined)).toBe(false);
    expect(routes.list()).toEqual(["GET /a/:id", "HEAD /a/:id", "POST /b"]);
  });
});
