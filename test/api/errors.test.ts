import { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putAudio, putConversation } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

type ListRequest = ElevenLabs.conversationalAi.ConversationsListRequest;

interface Issue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** Checks a 422 body: upstream's HTTPValidationError, with exactly these (loc, type) issues. */
function expectIssues(body: unknown, issues: { loc: (string | number)[]; type: string }[]): void {
  expectWireModel("HttpValidationError", body);
  const detail = (body as { detail: Issue[] }).detail;
  for (const issue of detail) expect(issue.msg.length).toBeGreaterThan(0);
  expect(detail.map(({ loc, type }) => ({ loc, type }))).toEqual(issues);
}

/** Every conversation id the server lists, through the SDK. */
async function allIds(sdk: RecordingClient): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await sdk.client.conversationalAi.conversations.list({ pageSize: 100, cursor });
    ids.push(...page.conversations.map((c) => c.conversationId));
    cursor = page.hasMore ? (page.nextCursor ?? undefined) : undefined;
  } while (cursor);
  return ids.sort();
}

describe.each(BACKENDS)("error responses on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  let stored: string[];

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    for (const id of ["conv_1", "conv_2"]) {
      expect((await putConversation(server, buildConversation({ id }))).status).toBe(201);
    }
    expect((await putAudio(server, "conv_1", new Uint8Array(2000), "audio/mpeg")).status).toBe(200);
    stored = await allIds(sdk);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("401 invalid_api_key", () => {
    const requests: { name: string; method: string; path: string; body?: string }[] = [
      { name: "list", method: "GET", path: "/v1/convai/conversations" },
      { name: "get", method: "GET", path: "/v1/convai/conversations/conv_1" },
      { name: "summary", method: "GET", path: "/v1/convai/conversations/conv_1/summary" },
      { name: "audio", method: "GET", path: "/v1/convai/conversations/conv_1/audio" },
      { name: "delete", method: "DELETE", path: "/v1/convai/conversations/conv_1" },
      {
        name: "ingest",
        method: "PUT",
        path: "/ingest/v1/conversations/conv_sneaky",
        body: JSON.stringify(buildConversation({ id: "conv_sneaky" })),
      },
      { name: "ingest audio", method: "PUT", path: "/ingest/v1/conversations/conv_2/audio", body: "RIFF" },
      { name: "an unknown route", method: "GET", path: "/v1/nothing/here" },
    ];

    it.each(requests)("$name without a key", async ({ method, path, body }) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        body,
        headers: body ? { "content-type": path.endsWith("/audio") ? "audio/wav" : "application/json" } : {},
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        detail: { status: "invalid_api_key", message: expect.stringMatching(/xi-api-key/) },
      });
    });

    it.each(requests)("$name with a wrong key", async ({ method, path, body }) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        body,
        headers: {
          "xi-api-key": "oc_not_a_key",
          ...(body ? { "content-type": path.endsWith("/audio") ? "audio/wav" : "application/json" } : {}),
        },
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        detail: { status: "invalid_api_key", message: expect.any(String) },
      });
    });

    it("reaches the SDK as an error with status 401 and upstream's body", async () => {
      const intruder = createRecordingClient(server, "oc_not_a_key");
      const calls: (() => Promise<unknown>)[] = [
        () => intruder.client.conversationalAi.conversations.list(),
        () => intruder.client.conversationalAi.conversations.get("conv_1"),
        () => intruder.client.conversationalAi.conversations.getSummary("conv_1"),
        () => intruder.client.conversationalAi.conversations.audio.get("conv_1"),
        () => intruder.client.conversationalAi.conversations.delete("conv_1"),
      ];
      for (const call of calls) {
        const error = await catchSdkError(call);
        expect(error.statusCode).toBe(401);
        expect(error.body).toEqual({ detail: { status: "invalid_api_key", message: expect.any(String) } });
      }
    });

    it("changed nothing: no conversation was written, deleted or given audio", async () => {
      expect(await allIds(sdk)).toEqual(stored);
      expect((await sdk.client.conversationalAi.conversations.get("conv_2")).hasAudio).toBe(false);
      expect((await sdk.client.conversationalAi.conversations.get("conv_1")).hasAudio).toBe(true);
    });
  });

  describe("404", () => {
    const calls: { name: string; call: (sdk: RecordingClient) => Promise<unknown> }[] = [
      { name: "get", call: (s) => s.client.conversationalAi.conversations.get("conv_missing") },
      { name: "summary", call: (s) => s.client.conversationalAi.conversations.getSummary("conv_missing") },
      { name: "audio", call: (s) => s.client.conversationalAi.conversations.audio.get("conv_missing") },
      { name: "delete", call: (s) => s.client.conversationalAi.conversations.delete("conv_missing") },
    ];
    it.each(calls)("$name of an unknown conversation answers conversation_not_found", async ({ call }) => {
      const error = await catchSdkError(() => call(sdk));
      expect(error.statusCode).toBe(404);
      expect(error.body).toEqual({
        detail: { status: "conversation_not_found", message: expect.stringContaining("conv_missing") },
      });
    });

    it("an unknown route answers not_found in the same envelope", async () => {
      const response = await server.fetch("/v1/convai/no-such-route");
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ detail: { status: "not_found", message: expect.any(String) } });
    });
  });

  describe("422 on the list query", () => {
    const sdkCases: {
      name: string;
      request: ListRequest;
      issues: { loc: (string | number)[]; type: string }[];
    }[] = [
      {
        name: "page_size=0",
        request: { pageSize: 0 },
        issues: [{ loc: ["query", "page_size"], type: "greater_than_equal" }],
      },
      {
        name: "page_size=101",
        request: { pageSize: 101 },
        issues: [{ loc: ["query", "page_size"], type: "less_than_equal" }],
      },
      {
        name: "rating_min=0",
        request: { ratingMin: 0 },
        issues: [{ loc: ["query", "rating_min"], type: "greater_than_equal" }],
      },
      {
        name: "rating_max=6",
        request: { ratingMax: 6 },
        issues: [{ loc: ["query", "rating_max"], type: "less_than_equal" }],
      },
      {
        name: "call_duration_min_secs=-1",
        request: { callDurationMinSecs: -1 },
        issues: [{ loc: ["query", "call_duration_min_secs"], type: "greater_than_equal" }],
      },
      {
        name: "several problems at once",
        request: { pageSize: 0, ratingMax: 9 },
        issues: [
          { loc: ["query", "page_size"], type: "greater_than_equal" },
          { loc: ["query", "rating_max"], type: "less_than_equal" },
        ],
      },
      {
        name: "a cursor that is not one",
        request: { cursor: "not-a-cursor" },
        issues: [{ loc: ["query", "cursor"], type: "value_error" }],
      },
      {
        name: "evaluation_params without a result",
        request: { evaluationParams: "resolved" },
        issues: [{ loc: ["query", "evaluation_params", 0], type: "value_error" }],
      },
      {
        name: "evaluation_params with an unknown result",
        request: { evaluationParams: ["resolved:success", "resolved:maybe"] },
        issues: [{ loc: ["query", "evaluation_params", 1], type: "value_error" }],
      },
      {
        name: "data_collection_params with an unknown operator",
        request: { dataCollectionParams: "amount:approx:3" },
        issues: [{ loc: ["query", "data_collection_params", 0], type: "value_error" }],
      },
      {
        name: "data_collection_params comparing with a non-number",
        request: { dataCollectionParams: "amount:gt:lots" },
        issues: [{ loc: ["query", "data_collection_params", 0], type: "value_error" }],
      },
      {
        name: "dynamic_variable_params without an operator",
        request: { dynamicVariableParams: "plan" },
        issues: [{ loc: ["query", "dynamic_variable_params", 0], type: "value_error" }],
      },
      {
        name: "dynamic_variable_params with an empty name",
        request: { dynamicVariableParams: ":eq:pro" },
        issues: [{ loc: ["query", "dynamic_variable_params", 0], type: "value_error" }],
      },
      {
        name: "more than 50 visited_agent_ids",
        request: { visitedAgentIds: Array.from({ length: 51 }, (_, i) => `agent_${i}`) },
        issues: [{ loc: ["query", "visited_agent_ids"], type: "too_long" }],
      },
      {
        name: "the unsupported triggered_procedure_ids",
        request: { triggeredProcedureIds: ["proc_1", "proc_2"] },
        issues: [{ loc: ["query", "triggered_procedure_ids"], type: "unsupported_filter" }],
      },
    ];

    it.each(sdkCases)("$name", async ({ request, issues }) => {
      const error = await catchSdkError(() => sdk.client.conversationalAi.conversations.list(request));
      expect(error).toBeInstanceOf(ElevenLabs.UnprocessableEntityError);
      expect(error.statusCode).toBe(422);
      expectIssues(error.body, issues);
    });

    // Values the SDK's types would not let a caller send.
    const rawCases: { query: string; loc: (string | number)[]; type: string }[] = [
      { query: "page_size=abc", loc: ["query", "page_size"], type: "int_parsing" },
      { query: "page_size=2.5", loc: ["query", "page_size"], type: "int_parsing" },
      { query: "sort_direction=sideways", loc: ["query", "sort_direction"], type: "enum" },
      { query: "summary_mode=all", loc: ["query", "summary_mode"], type: "enum" },
      { query: "call_successful=maybe", loc: ["query", "call_successful"], type: "enum" },
      {
        query: "exclude_statuses=done&exclude_statuses=gone",
        loc: ["query", "exclude_statuses", 1],
        type: "enum",
      },
      { query: "text_only=sometimes", loc: ["query", "text_only"], type: "bool_parsing" },
      { query: "has_feedback_comment=2", loc: ["query", "has_feedback_comment"], type: "bool_parsing" },
      {
        query: "call_start_after_unix=yesterday",
        loc: ["query", "call_start_after_unix"],
        type: "float_parsing",
      },
    ];
    it.each(rawCases)("$query", async ({ query, loc, type }) => {
      const response = await server.fetch(`/v1/convai/conversations?${query}`);
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc, type }]);
    });
  });

  describe("422 on other queries and paths", () => {
    it("GET with format=xml", async () => {
      const response = await server.fetch("/v1/convai/conversations/conv_1?format=xml");
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["query", "format"], type: "enum" }]);
    });

    it("summary with max_messages=many", async () => {
      const response = await server.fetch("/v1/convai/conversations/conv_1/summary?max_messages=many");
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["query", "max_messages"], type: "int_parsing" }]);
    });

    it("an empty conversation id", async () => {
      const response = await server.fetch("/ingest/v1/conversations/", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(buildConversation({ id: "" })),
      });
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["path", "conversation_id"], type: "string_too_short" }]);
    });

    it.each([
      ["GET", "/v1/convai/conversations/"],
      ["DELETE", "/v1/convai/conversations/"],
    ])("%s %s (no id)", async (method, path) => {
      const response = await server.fetch(path, { method });
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["path", "conversation_id"], type: "string_too_short" }]);
    });

    it("a conversation id over 512 characters", async () => {
      const error = await catchSdkError(() => sdk.client.conversationalAi.conversations.get("x".repeat(513)));
      expect(error.statusCode).toBe(422);
      expectIssues(error.body, [{ loc: ["path", "conversation_id"], type: "string_too_long" }]);
    });

    it("a conversation id far over the limit is stopped by the router, in the same envelope", async () => {
      const response = await server.fetch(`/v1/convai/conversations/${"x".repeat(5000)}`);
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["path"], type: "string_too_long" }]);
    });

    it("a path that is not valid percent-encoding", async () => {
      const response = await server.fetch("/v1/convai/conversations/%E0%A4%A");
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["path"], type: "value_error" }]);
    });
  });

  describe("422 on the ingest body", () => {
    const put = (body: string, contentType = "application/json") =>
      server.fetch("/ingest/v1/conversations/conv_broken", {
        method: "PUT",
        headers: { "content-type": contentType },
        body,
      });

    it.each([
      ["truncated JSON", '{"agent_id": "a", "conversation_id": '],
      ["not JSON at all", "agent_id=a"],
      ["an empty body", ""],
      ["JSON with a trailing comma", '{"agent_id": "a",}'],
    ])("%s answers json_invalid", async (_name, body) => {
      const response = await put(body);
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["body"], type: "json_invalid" }]);
    });

    it("a document that is not an object answers dict_type", async () => {
      const response = await put("[1, 2, 3]");
      expect(response.status).toBe(422);
      expectIssues(await response.json(), [{ loc: ["body"], type: "dict_type" }]);
    });

    it("wrote nothing", async () => {
      expect((await server.fetch("/v1/convai/conversations/conv_broken")).status).toBe(404);
      expect(await allIds(sdk)).toEqual(stored);
    });
  });

  it.each([
    { name: "401", path: "/v1/convai/conversations", withKey: false },
    { name: "404", path: "/v1/convai/conversations/conv_missing", withKey: true },
    { name: "422 from a route", path: "/v1/convai/conversations?page_size=0", withKey: true },
    { name: "422 from the router", path: "/v1/convai/conversations/%E0%A4%A", withKey: true },
  ])("a $name carries an x-request-id, and echoes the one sent", async ({ path, withKey }) => {
    const key: Record<string, string> = withKey ? { "xi-api-key": server.apiKey } : {};
    const plain = await fetch(`${server.url}${path}`, { headers: key });
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(plain.headers.get("x-request-id")).toEqual(expect.stringMatching(/.+/));
    const traced = await fetch(`${server.url}${path}`, { headers: { ...key, "x-request-id": "trace-123" } });
    expect(traced.headers.get("x-request-id")).toBe("trace-123");
  });

  it("keeps serving after every bad request above", async () => {
    const page = await sdk.client.conversationalAi.conversations.list();
    expectWireModel("GetConversationsPageResponseModel", sdk.lastBody());
    expect(page.conversations.map((c) => c.conversationId).sort()).toEqual(stored);
    expect((await putConversation(server, buildConversation({ id: "conv_after" }))).status).toBe(201);
  });
});

describe.each(BACKENDS)("413 on bodies over the limits on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend, {
      OPENCONVAI_MAX_JSON_BYTES: "2048",
      OPENCONVAI_MAX_AUDIO_BYTES: "1024",
    });
    sdk = createRecordingClient(server);
    expect((await putConversation(server, buildConversation({ id: "conv_small" }))).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const big = buildConversation({ id: "conv_big", messages: ["x".repeat(3000)] });

  it("refuses a document over OPENCONVAI_MAX_JSON_BYTES with payload_too_large and writes nothing", async () => {
    const response = await putConversation(server, big);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: { status: "payload_too_large", message: expect.stringContaining("2048") },
    });
    expect((await server.fetch("/v1/convai/conversations/conv_big")).status).toBe(404);
  });

  it("refuses a streamed document (no Content-Length) over the limit too", async () => {
    const text = new TextEncoder().encode(JSON.stringify(big));
    const chunks = [text.slice(0, 1500), text.slice(1500)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await server.fetch("/ingest/v1/conversations/conv_big", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: { status: "payload_too_large", message: expect.any(String) },
    });
    expect((await server.fetch("/v1/convai/conversations/conv_big")).status).toBe(404);
  });

  it("refuses a replacement over the limit and keeps the stored version", async () => {
    const response = await putConversation(server, { ...big, conversation_id: "conv_small" });
    expect(response.status).toBe(413);
    const kept = await sdk.client.conversationalAi.conversations.get("conv_small");
    expect(kept.transcript.map((t) => t.message)).toEqual(["Hello.", "Hi, how can I help?"]);
  });

  it("refuses audio over OPENCONVAI_MAX_AUDIO_BYTES and keeps none of it", async () => {
    const response = await putAudio(server, "conv_small", new Uint8Array(1025), "audio/mpeg");
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: { status: "payload_too_large", message: expect.any(String) },
    });
    expect((await sdk.client.conversationalAi.conversations.get("conv_small")).hasAudio).toBe(false);
  });

  it("refuses streamed audio (no Content-Length) once it passes the limit, and keeps none of it", async () => {
    const chunks = [new Uint8Array(600), new Uint8Array(600)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await server.fetch("/ingest/v1/conversations/conv_small/audio", {
      method: "PUT",
      headers: { "content-type": "audio/mpeg" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: { status: "payload_too_large", message: expect.any(String) },
    });
    expect((await sdk.client.conversationalAi.conversations.get("conv_small")).hasAudio).toBe(false);
  });

  it("accepts what fits and keeps serving", async () => {
    expect((await putConversation(server, buildConversation({ id: "conv_fits" }))).status).toBe(201);
    expect((await putAudio(server, "conv_fits", new Uint8Array(1024), "audio/mpeg")).status).toBe(200);
    const page = await sdk.client.conversationalAi.conversations.list();
    expect(page.conversations.map((c) => c.conversationId).sort()).toEqual(["conv_fits", "conv_small"]);
  });
});
