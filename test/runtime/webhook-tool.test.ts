import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAgentTools } from "../../src/runtime/agent-tools.js";
import type { AgentTool } from "../../src/runtime/brain.js";
import { callWebhookTool } from "../../src/runtime/webhook-tool.js";

/** A request the test server received. */
interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let server: http.Server;
let origin: string;

/** The routes of the test server, by path. */
function answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/fail") {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(`database exploded\n${"trace line\n".repeat(200)}`);
  } else if (path === "/slow") {
    // Never answers: the caller's timeout or abort has to end the call.
  } else if (path === "/huge-declared") {
    res.writeHead(200, { "content-type": "text/plain", "content-length": 5000 });
    res.end("x".repeat(5000));
  } else if (path === "/huge-streamed") {
    res.writeHead(200, { "content-type": "text/plain" });
    const chunk = "y".repeat(512);
    for (let i = 0; i < 10; i += 1) res.write(chunk);
    res.end();
  } else if (path === "/redirect") {
    res.writeHead(302, { location: "/elsewhere" });
    res.end();
  } else if (path === "/empty") {
    res.writeHead(204);
    res.end();
  } else {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, method: req.method, url: req.url }));
  }
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => answer(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const LIMITS = { timeoutMs: 5_000, maxResponseBytes: 1_024 };

/** A webhook tool as the runtime reads it from an agent whose tool has this `api_schema`. */
function webhookTool(apiSchema: Record<string, unknown>, extra: Record<string, unknown> = {}): AgentTool {
  const tools = readAgentTools({
    agent: {
      prompt: {
        tools: [{ type: "webhook", name: "hook", description: "", api_schema: apiSchema, ...extra }],
      },
    },
  });
  const tool = tools.find((candidate) => candidate.name === "hook");
  if (!tool) throw new Error("the webhook tool was not read");
  return tool;
}

/** The last request the server received. */
function lastRequest(): Received {
  const last = received.at(-1);
  if (!last) throw new Error("no request was received");
  return last;
}

const never = new AbortController().signal;

describe("callWebhookTool", () => {
  it("GETs the URL with path parameters encoded in their placeholders and the query parameters", async () => {
    const tool = webhookTool({
      url: `${origin}/orders/{order_id}/items/{item}?fixed=1`,
      path_params_schema: {
        order_id: { type: "string", description: "Order" },
        item: { type: "integer", description: "Item" },
      },
      query_params_schema: {
        properties: {
          verbose: { type: "boolean", description: "Verbose" },
          api_version: { type: "string", constant_value: "2024-01" },
          unused: { type: "string", description: "Not given" },
        },
      },
    });
    const outcome = await callWebhookTool(
      tool,
      { order_id: "A/1 b?", item: 3, verbose: true },
      LIMITS,
      never,
    );
    const expectedUrl = "/orders/A%2F1%20b%3F/items/3?fixed=1&verbose=true&api_version=2024-01";
    expect(outcome).toEqual({
      isError: false,
      result: JSON.stringify({ ok: true, method: "GET", url: expectedUrl }),
    });
    expect(lastRequest()).toMatchObject({ method: "GET", url: expectedUrl, body: "" });
    expect(lastRequest().headers["content-type"]).toBeUndefined();
  });

  it("POSTs a JSON body built from the body schema, with constants and dynamic variables filled", async () => {
    const tool = webhookTool({
      url: `${origin}/notes`,
      method: "POST",
      request_body_schema: {
        type: "object",
        properties: {
          note: { type: "string", description: "Note" },
          count: { type: "number", description: "Count" },
          source: { type: "string", constant_value: "voice-agent" },
          conversation: { type: "string", dynamic_variable: "system__conversation_id" },
          retries: { type: "integer", dynamic_variable: "retries" },
          customer: {
            type: "object",
            description: "Customer",
            properties: {
              email: { type: "string", description: "Email" },
              tier: { type: "string", constant_value: "gold" },
            },
          },
          tags: { type: "array", description: "Tags", items: { type: "string", description: "Tag" } },
          hidden: { type: "string", is_omitted: true },
        },
      },
    });
    const outcome = await callWebhookTool(
      tool,
      { note: "call back", count: 2, customer: { email: "a@b.c", extra: "dropped" }, tags: ["x"], stray: 1 },
      LIMITS,
      never,
      { dynamicVariables: { system__conversation_id: "conv_1", retries: "3" } },
    );
    expect(outcome.isError).toBe(false);
    const request = lastRequest();
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body)).toEqual({
      note: "call back",
      count: 2,
      source: "voice-agent",
      conversation: "conv_1",
      retries: 3,
      customer: { email: "a@b.c", tier: "gold" },
      tags: ["x"],
    });
  });

  it("sends a form body when the tool's content type asks for one", async () => {
    const tool = webhookTool({
      url: `${origin}/form`,
      method: "PUT",
      content_type: "application/x-www-form-urlencoded",
      request_body_schema: {
        type: "object",
        properties: {
          name: { type: "string", description: "Name" },
          age: { type: "integer", description: "Age" },
        },
      },
    });
    const outcome = await callWebhookTool(tool, { name: "Ada L", age: 36 }, LIMITS, never);
    expect(outcome.isError).toBe(false);
    expect(lastRequest()).toMatchObject({ method: "PUT", body: "name=Ada+L&age=36" });
    expect(lastRequest().headers["content-type"]).toBe("application/x-www-form-urlencoded");
  });

  it("sends the tool's headers: strings with their variables filled, dynamic variables; never secrets", async () => {
    const tool = webhookTool({
      url: `${origin}/headers`,
      request_headers: {
        "x-plain": "demo",
        authorization: "Bearer {{token}}",
        "x-user": { variable_name: "user_id" },
        "x-missing-variable": { variable_name: "nobody_set_this" },
        "x-secret": { secret_id: "sec_123" },
        "x-env": { env_var_label: "API_KEY" },
      },
    });
    const outcome = await callWebhookTool(tool, {}, LIMITS, never, {
      dynamicVariables: { token: "t0k", user_id: "u-7" },
    });
    expect(outcome.isError).toBe(false);
    const headers = lastRequest().headers;
    expect(headers["x-plain"]).toBe("demo");
    expect(headers.authorization).toBe("Bearer t0k");
    expect(headers["x-user"]).toBe("u-7");
    expect(headers["x-missing-variable"]).toBeUndefined();
    expect(headers["x-secret"]).toBeUndefined();
    expect(headers["x-env"]).toBeUndefined();
  });

  it("turns an error status into an error outcome with the status and a short excerpt", async () => {
    const outcome = await callWebhookTool(webhookTool({ url: `${origin}/fail` }), {}, LIMITS, never);
    expect(outcome.isError).toBe(true);
    expect(outcome.result).toMatch(
      /^The webhook answered 500 Internal Server Error: database exploded trace line/,
    );
    expect(outcome.result.length).toBeLessThan(400);
  });

  it("does not follow a redirect", async () => {
    const outcome = await callWebhookTool(webhookTool({ url: `${origin}/redirect` }), {}, LIMITS, never);
    expect(outcome).toEqual({ isError: true, result: expect.stringMatching(/302.*redirect/) });
    expect(lastRequest().url).toBe("/redirect");
  });

  it("says so when a 2xx answer has no body", async () => {
    const outcome = await callWebhookTool(webhookTool({ url: `${origin}/empty` }), {}, LIMITS, never);
    expect(outcome).toEqual({ isError: false, result: "The webhook answered 204 with no body." });
  });

  it("gives up after the limit's timeout", async () => {
    const outcome = await callWebhookTool(
      webhookTool({ url: `${origin}/slow` }),
      {},
      { ...LIMITS, timeoutMs: 50 },
      never,
    );
    expect(outcome).toEqual({ isError: true, result: "The webhook did not answer within 50 ms." });
  });

  it("gives up after the tool's response_timeout_secs when it is shorter than the limit", async () => {
    const tool = { ...webhookTool({ url: `${origin}/slow` }), responseTimeoutSecs: 0.04 };
    const outcome = await callWebhookTool(tool, {}, { ...LIMITS, timeoutMs: 60_000 }, never);
    expect(outcome).toEqual({ isError: true, result: "The webhook did not answer within 40 ms." });
  });

  it("refuses an answer larger than the limit, declared or streamed", async () => {
    for (const path of ["/huge-declared", "/huge-streamed"]) {
      const outcome = await callWebhookTool(webhookTool({ url: `${origin}${path}` }), {}, LIMITS, never);
      expect(outcome).toEqual({
        isError: true,
        result: "The webhook's answer is larger than 1024 bytes, the limit.",
      });
    }
  });

  it("stops when the signal aborts, and does not call at all when it already has", async () => {
    const controller = new AbortController();
    const pending = callWebhookTool(webhookTool({ url: `${origin}/slow` }), {}, LIMITS, controller.signal);
    const before = received.length;
    while (received.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await pending).toEqual({ isError: true, result: "The webhook call was cancelled." });

    const count = received.length;
    const aborted = AbortSignal.abort();
    const outcome = await callWebhookTool(webhookTool({ url: `${origin}/ok` }), {}, LIMITS, aborted);
    expect(outcome).toEqual({ isError: true, result: "The webhook call was cancelled." });
    expect(received.length).toBe(count);
  });

  it("reports an unreachable server with the network's reason", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await callWebhookTool(
      webhookTool({ url: `http://127.0.0.1:${port}/` }),
      {},
      LIMITS,
      never,
    );
    expect(outcome.isError).toBe(true);
    expect(outcome.result).toMatch(/^The webhook could not be reached: .*ECONNREFUSED/);
  });

  it("refuses URLs that are not http(s), missing path parameters and unknown methods, without a request", async () => {
    const count = received.length;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: "file:///etc/passwd" }, /must be http or https/],
      [{ url: "not a url" }, /not a valid URL/],
      [
        { url: `${origin}/orders/{id}`, path_params_schema: { id: { type: "string", description: "Id" } } },
        /Missing path parameter "id"/,
      ],
      [{ url: `${origin}/ok`, method: "TRACE" }, /method TRACE is not supported/],
      [{ url: `${origin}/ok`, request_headers: { "bad header": "x" } }, /not a valid HTTP header/],
    ];
    for (const [apiSchema, reason] of cases) {
      const outcome = await callWebhookTool(webhookTool(apiSchema), {}, LIMITS, never);
      expect(outcome.isError).toBe(true);
      expect(outcome.result).toMatch(reason);
    }
    expect(received.length).toBe(count);
  });
});
