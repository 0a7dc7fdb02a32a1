import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are walked freely by the assertions.
type Json = Record<string, any>;

/** What GET /v1/convai/settings answers for `webhooks` before anything was set (no `events`: unset, transcripts are sent). */
const WEBHOOKS_DEFAULTS = {
  send_audio: false,
  transcript_format: "json",
  exclude_transcript: false,
};

describe.each(BACKENDS)("workspace webhooks and ConvAI settings API on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend, { OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true" });
    sdk = createRecordingClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const webhooks = () => sdk.client.webhooks;
  const settings = () => sdk.client.conversationalAi.settings;
  const store = () => server.server.services.db.outgoingWebhooks;
  const send = (method: string, path: string, body: unknown) =>
    server.fetch(path, {
      method,
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const create = (name: string, url = "http://127.0.0.1:9/hook") =>
    webhooks().create({ settings: { authType: "hmac", name, webhookUrl: url } });
  /** The listed webhook with this id, as sent on the wire. */
  const listed = async (webhookId: string, includeUsages = false): Promise<Json | undefined> => {
    await webhooks().list({ includeUsages });
    return (sdk.lastBody() as Json).webhooks.find((w: Json) => w.webhook_id === webhookId);
  };

  it("creates a webhook, shows its secret once, and lists it with every key the SDK requires", async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await webhooks().create({
      settings: {
        authType: "hmac",
        name: "CRM",
        webhookUrl: "https://example.com/hooks/elevenlabs",
        requestHeaders: { "X-Team": "support", Authorization: "Bearer abc" },
      },
    });
    expect(created.webhookId).toMatch(/^[0-9a-f]{32}$/);
    expect(created.webhookSecret).toMatch(/^wsec_[0-9a-f]{64}$/);
    expect(sdk.lastBody()).toEqual({ webhook_id: created.webhookId, webhook_secret: created.webhookSecret });

    const list = await webhooks().list();
    const raw = JSON.stringify(sdk.lastBody());
    expect(raw).not.toContain(created.webhookSecret);
    const item = list.webhooks.find((w) => w.webhookId === created.webhookId);
    expect(item).toMatchObject({
      name: "CRM",
      webhookUrl: "https://example.com/hooks/elevenlabs",
      isDisabled: false,
      isAutoDisabled: false,
      authType: "hmac",
      events: [],
    });
    expect(item?.createdAtUnix).toBeGreaterThanOrEqual(before);
    const wire = await listed(created.webhookId);
    expect(wire).toEqual({
      name: "CRM",
      webhook_id: created.webhookId,
      webhook_url: "https://example.com/hooks/elevenlabs",
      is_disabled: false,
      is_auto_disabled: false,
      created_at_unix: item?.createdAtUnix,
      auth_type: "hmac",
      events: [],
      retry_enabled: true,
      request_headers: { "X-Team": "support", Authorization: "Bearer abc" },
    });
    // The secret the deliveries are signed with is the one shown.
    expect((await store().getWebhook(created.webhookId))?.secret).toBe(created.webhookSecret);
  });

  it("refuses a create body that is not an HMAC webhook with a name and an http(s) URL, naming the field", async () => {
    const cases: [unknown, (string | number)[]][] = [
      [
        { settings: { auth_type: "oauth2", name: "x", webhook_url: "https://example.com" } },
        ["body", "settings", "auth_type"],
      ],
      [{ settings: { auth_type: "hmac", webhook_url: "https://example.com" } }, ["body", "settings", "name"]],
      [
        { settings: { auth_type: "hmac", name: "x", webhook_url: "ftp://example.com/x" } },
        ["body", "settings", "webhook_url"],
      ],
      [
        { settings: { auth_type: "hmac", name: "x", webhook_url: "https://u:p@example.com/x" } },
        ["body", "settings", "webhook_url"],
      ],
      [
        { settings: { auth_type: "hmac", name: "x", webhook_url: "not a url" } },
        ["body", "settings", "webhook_url"],
      ],
      [
        {
          settings: {
            auth_type: "hmac",
            name: "x",
            webhook_url: "https://example.com",
            request_headers: { "Content-Length": "1" },
          },
        },
        ["body", "settings", "request_headers", "Content-Length"],
      ],
      [
        {
          settings: {
            auth_type: "hmac",
            name: "x",
            webhook_url: "https://example.com",
            request_headers: { "X-A": "a\r\nX-B: b" },
          },
        },
        ["body", "settings", "request_headers", "X-A"],
      ],
      [{ name: "x" }, ["body", "settings"]],
      [[], ["body"]],
    ];
    const count = (await store().listWebhooks()).length;
    for (const [body, loc] of cases) {
      const response = await send("POST", "/v1/workspace/webhooks", body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      const detail = ((await response.json()) as Json).detail as Json[];
      expect(
        detail.map((issue) => issue.loc),
        JSON.stringify(body),
      ).toContainEqual(loc);
    }
    expect(await store().listWebhooks()).toHaveLength(count);
  });

  it("updates a webhook's name, state, retries, headers and events; an unknown id is a 404", async () => {
    const { webhookId } = await create("Before");
    const answer = await webhooks().update(webhookId, {
      isDisabled: true,
      name: "After",
      retryEnabled: false,
      requestHeaders: { "X-New": "1" },
      events: ["agent_qa"],
    });
    expect(answer).toEqual({ status: "ok" });
    expect(sdk.lastBody()).toEqual({ status: "ok" });
    expect(await listed(webhookId)).toMatchObject({
      name: "After",
      is_disabled: true,
      retry_enabled: false,
      request_headers: { "X-New": "1" },
      events: ["agent_qa"],
    });
    // Only the two required fields: the others stay as they were.
    await webhooks().update(webhookId, { isDisabled: false, name: "Again" });
    expect(await listed(webhookId)).toMatchObject({
      name: "Again",
      is_disabled: false,
      retry_enabled: false,
      request_headers: { "X-New": "1" },
      events: ["agent_qa"],
    });

    const missing = await catchSdkError(() =>
      webhooks().update("0".repeat(32), { isDisabled: false, name: "x" }),
    );
    expect(missing.statusCode).toBe(404);
    expect((missing.body as Json).detail.status).toBe("webhook_not_found");
    const noName = await send("PATCH", `/v1/workspace/webhooks/${webhookId}`, { is_disabled: false });
    expect(noName.status).toBe(422);
    expect(((await noName.json()) as Json).detail[0].loc).toEqual(["body", "name"]);
    const badEvent = await send("PATCH", `/v1/workspace/webhooks/${webhookId}`, {
      is_disabled: false,
      name: "x",
      events: ["transcript"],
    });
    expect(badEvent.status).toBe(422);
  });

  it("enabling a webhook clears an auto-disable, and the list shows its most recent failure", async () => {
    const { webhookId } = await create("Flaky");
    const now = Date.now();
    await store().enqueue([
      {
        deliveryId: crypto.randomUUID(),
        webhookId,
        eventType: "call_initiation_failure",
        conversationId: null,
        agentId: null,
        eventTimestamp: Math.floor(now / 1000),
        payload: "{}",
        excludeTranscript: false,
        maxAttempts: 1,
        createdAtMs: now,
      },
    ]);
    const [claimed] = await store().claimDue("test-node", now + 1000, 10, 60_000, 10);
    expect(claimed?.webhookId).toBe(webhookId);
    await store().recordAttempt(
      "test-node",
      {
        deliveryId: claimed?.deliveryId ?? "",
        attempt: 1,
        startedAtMs: now,
        url: "http://127.0.0.1:9/hook",
        statusCode: 503,
        error: "HTTP 503",
        latencyMs: 5,
        responseHead: null,
      },
      { status: "failed" },
      { failures: 1, quietMs: 0 },
    );
    const failed = await listed(webhookId);
    expect(failed).toMatchObject({ is_auto_disabled: true, most_recent_failure_error_code: 503 });
    expect(typeof failed?.most_recent_failure_timestamp).toBe("number");
    const parsed = (await webhooks().list()).webhooks.find((w) => w.webhookId === webhookId);
    expect(parsed?.mostRecentFailureErrorCode).toBe(503);

    await webhooks().update(webhookId, { isDisabled: false, name: "Flaky" });
    expect(await listed(webhookId)).toMatchObject({ is_disabled: false, is_auto_disabled: false });
    expect((await store().getWebhook(webhookId))?.consecutiveFailures).toBe(0);
  });

  it("deletes a webhook, cancelling its pending deliveries; an unknown id is a 404", async () => {
    const { webhookId } = await create("Doomed");
    const deliveryId = crypto.randomUUID();
    await store().enqueue([
      {
        deliveryId,
        webhookId,
        eventType: "post_call_transcription",
        conversationId: "conv_doomed",
        agentId: null,
        eventTimestamp: 1_700_000_000,
        payload: null,
        excludeTranscript: false,
        maxAttempts: 3,
        createdAtMs: Date.now() + 3_600_000,
      },
    ]);
    expect(await webhooks().delete(webhookId)).toEqual({ status: "ok" });
    expect(sdk.lastBody()).toEqual({ status: "ok" });
    expect(await listed(webhookId)).toBeUndefined();
    expect((await store().getDelivery(deliveryId))?.delivery.status).toBe("cancelled");
    const again = await catchSdkError(() => webhooks().delete(webhookId));
    expect(again.statusCode).toBe(404);
    expect((again.body as Json).detail.status).toBe("webhook_not_found");
  });

  it("lists usages only when asked: the workspace settings and agents' overrides that name each webhook", async () => {
    const workspaceOnly = await create("Workspace");
    const extraOnly = await create("Extra");
    const agentOnly = await create("Agent");
    const unused = await create("Unused");
    await settings().update({ webhooks: { postCallWebhookId: workspaceOnly.webhookId } });
    const extension = await send("PATCH", "/v1/convai/settings", {
      webhooks: { post_call_webhook_ids: [extraOnly.webhookId] },
    });
    expect(extension.status).toBe(200);
    await sdk.client.conversationalAi.agents.create({
      conversationConfig: {},
      platformSettings: { workspaceOverrides: { webhooks: { postCallWebhookId: agentOnly.webhookId } } },
    });

    expect(await listed(workspaceOnly.webhookId)).not.toHaveProperty("usage");
    const usage = async (id: string) => (await listed(id, true))?.usage;
    expect(await usage(workspaceOnly.webhookId)).toEqual([{ usage_type: "ConvAI Settings" }]);
    expect(await usage(extraOnly.webhookId)).toEqual([{ usage_type: "ConvAI Settings" }]);
    expect(await usage(agentOnly.webhookId)).toEqual([{ usage_type: "ConvAI Agent Settings" }]);
    expect(await usage(unused.webhookId)).toEqual([]);
    const parsed = await webhooks().list({ includeUsages: true });
    expect(parsed.webhooks.find((w) => w.webhookId === agentOnly.webhookId)?.usage).toEqual([
      { usageType: "ConvAI Agent Settings" },
    ]);
  });
});

describe.each(BACKENDS)("ConvAI settings API on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend, { OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true" });
    sdk = createRecordingClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const settings = () => sdk.client.conversationalAi.settings;
  const patch = (body: unknown) =>
    server.fetch("/v1/convai/settings", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const create = async (name: string) =>
    (
      await sdk.client.webhooks.create({
        settings: { authType: "hmac", name, webhookUrl: "https://example.com/h" },
      })
    ).webhookId;

  it("answers the defaults before anything is set, and the SDK parses them", async () => {
    const answer = await settings().get();
    expect(sdk.lastBody()).toEqual({ webhooks: WEBHOOKS_DEFAULTS });
    expect(answer.webhooks).toEqual({
      sendAudio: false,
      transcriptFormat: "json",
      excludeTranscript: false,
    });
  });

  it("merges a PATCH: top-level keys replace, webhooks fields merge one by one, unknown keys are kept", async () => {
    const first = await create("First");
    const updated = await settings().update({
      webhooks: {
        postCallWebhookId: first,
        events: ["transcript", "audio"],
        transcriptFormat: "opentelemetry",
      },
      canUseMcpServers: true,
      ragRetentionPeriodDays: 30,
    });
    const expected = {
      webhooks: {
        ...WEBHOOKS_DEFAULTS,
        post_call_webhook_id: first,
        events: ["transcript", "audio"],
        transcript_format: "opentelemetry",
      },
      can_use_mcp_servers: true,
      rag_retention_period_days: 30,
    };
    expect(sdk.lastBody()).toEqual(expected);
    expect(updated.webhooks?.postCallWebhookId).toBe(first);
    await settings().get();
    expect(sdk.lastBody()).toEqual(expected);

    await settings().update({ webhooks: { excludeTranscript: true }, ragRetentionPeriodDays: 7 });
    expect(sdk.lastBody()).toEqual({
      ...expected,
      webhooks: { ...expected.webhooks, exclude_transcript: true },
      rag_retention_period_days: 7,
    });

    const second = await create("Second");
    const raw = await patch({
      custom_setting: { nested: [1, 2] },
      webhooks: { post_call_webhook_ids: [second] },
    });
    expect(raw.status).toBe(200);
    const body = (await raw.json()) as Json;
    expect(body.custom_setting).toEqual({ nested: [1, 2] });
    expect(body.webhooks).toEqual({
      ...expected.webhooks,
      exclude_transcript: true,
      post_call_webhook_ids: [second],
    });
    await settings().get();
    expect(sdk.lastBody()).toEqual(body);

    // A null field goes back to its default.
    const reset = await patch({ webhooks: { transcript_format: null, post_call_webhook_ids: null } });
    const resetBody = (await reset.json()) as Json;
    expect(resetBody.webhooks.transcript_format).toBe("json");
    expect(resetBody.webhooks).not.toHaveProperty("post_call_webhook_ids");
  });

  it("refuses webhooks that do not exist, unknown events and formats, naming the field; nothing is written", async () => {
    const before = await (await server.fetch("/v1/convai/settings")).json();
    const existing = await create("Existing");
    const cases: [unknown, (string | number)[]][] = [
      [{ webhooks: { post_call_webhook_id: "f".repeat(32) } }, ["body", "webhooks", "post_call_webhook_id"]],
      [
        { webhooks: { post_call_webhook_ids: [existing, "nope"] } },
        ["body", "webhooks", "post_call_webhook_ids", 1],
      ],
      [{ webhooks: { events: ["transcript", "everything"] } }, ["body", "webhooks", "events", 1]],
      [{ webhooks: { transcript_format: "xml" } }, ["body", "webhooks", "transcript_format"]],
      [{ webhooks: { send_audio: "yes" } }, ["body", "webhooks", "send_audio"]],
      [{ webhooks: "all" }, ["body", "webhooks"]],
      ["[1]", ["body"]],
    ];
    for (const [body, loc] of cases) {
      const response = await patch(body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      const detail = ((await response.json()) as Json).detail as Json[];
      expect(
        detail.map((issue) => issue.loc),
        JSON.stringify(body),
      ).toContainEqual(loc);
    }
    expect(await (await server.fetch("/v1/convai/settings")).json()).toEqual(before);
  });

  it("refuses a body over 64 KiB with a 413, and a request without a key with a 401", async () => {
    const big = await patch({ custom: "x".repeat(70 * 1024) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as Json).detail.status).toBe("payload_too_large");
    const anonymous = await fetch(`${server.url}/v1/convai/settings`);
    expect(anonymous.status).toBe(401);
    const anonymousList = await fetch(`${server.url}/v1/workspace/webhooks`);
    expect(anonymousList.status).toBe(401);
  });
});

describe("workspace webhook URLs without OPENCONVAI_WEBHOOK_ALLOW_PRIVATE", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses private, loopback and localhost addresses with a 422 naming webhook_url, and takes public ones", async () => {
    for (const url of [
      "http://127.0.0.1:8080/h",
      "http://10.1.2.3/h",
      "http://[::1]/h",
      "http://localhost/h",
    ]) {
      const error = await catchSdkError(() =>
        server.client.webhooks.create({ settings: { authType: "hmac", name: "Private", webhookUrl: url } }),
      );
      expect(error.statusCode, url).toBe(422);
      const detail = (error.body as Json).detail as Json[];
      expect(detail[0]?.loc).toEqual(["body", "settings", "webhook_url"]);
      expect(detail[0]?.msg).toContain("OPENCONVAI_WEBHOOK_ALLOW_PRIVATE");
    }
    expect((await server.client.webhooks.list()).webhooks).toEqual([]);
    const created = await server.client.webhooks.create({
      settings: { authType: "hmac", name: "Public", webhookUrl: "https://example.com/h" },
    });
    expect(created.webhookId).toMatch(/^[0-9a-f]{32}$/);
  });
});
