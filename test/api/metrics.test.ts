/**
 * Prometheus metrics: `/metrics` on the API's port behind OPENCONVAI_METRICS_TOKEN, and on a
 * port of its own without one. Each family is checked against what the test caused: requests with
 * known statuses, a voice session (development voice), webhook attempts to a local receiver, the
 * outbox, audio stored and read, PostgreSQL's pool and queries.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAudioFormat } from "../../src/audio/audio-format.js";
import type { NewOutgoingDelivery } from "../../src/store/outgoing-webhook-store.js";
import { buildConversation } from "../fixtures/conversations.js";
import { eventually } from "../runtime/eventually.js";
import { connectVoice, speechSignal } from "../runtime/voice-client.js";
import { BACKENDS } from "../support/backends.js";
import { putAudio, putConversation } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const TOKEN = "metrics-token-0123456789abcdef";
/** The format voice sessions take by default. */
const PCM16 = getAudioFormat("pcm_16000");
const HOUR = 3_600_000;

/** One sample of the text format: its name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text format (comments skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, c: string) =>
        c === "n" ? "\n" : c,
      );
    }
    const raw = match[3] as string;
    samples.push({ name: match[1] as string, labels, value: raw === "NaN" ? Number.NaN : Number(raw) });
  }
  return samples;
}

/** The value of the sample with exactly these labels; 0 when there is none (a series not yet seen). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  const found = samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === wanted.length &&
      wanted.every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

/** The families present (by sample name). */
const namesOf = (samples: Sample[]) => new Set(samples.map((s) => s.name));

/** A `call_initiation_failure` delivery (its data is fixed when queued: it needs no conversation). */
function delivery(deliveryId: string, webhookId: string, createdAtMs: number): NewOutgoingDelivery {
  return {
    deliveryId,
    webhookId,
    eventType: "call_initiation_failure",
    conversationId: `conv_${deliveryId}`,
    agentId: "agent_1",
    eventTimestamp: Math.floor(createdAtMs / 1000),
    payload: JSON.stringify({
      agent_id: "agent_1",
      conversation_id: `conv_${deliveryId}`,
      failure_reason: "x",
    }),
    excludeTranscript: false,
    maxAttempts: 2,
    createdAtMs,
  };
}

describe.each(BACKENDS)("Prometheus metrics on %s", (backend) => {
  let server: TestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    server = await startTestServer(backend, {
      OPENCONVAI_METRICS_TOKEN: TOKEN,
      OPENCONVAI_METRICS_PORT: "0",
      OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
      OPENCONVAI_WEBHOOK_POLL_MS: "50",
      OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: "0,1h",
      OPENCONVAI_WEBHOOK_RETRY_JITTER: "0",
    });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  /** Scrapes `/metrics` on the API's port with the token. */
  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(await response.text());
  }

  it("answers 401 without the token, with another one, and for an API key; 200 with the token", async () => {
    const without = await fetch(`${server.url}/metrics`);
    expect(without.status).toBe(401);
    expect(await without.json()).toEqual({
      detail: { status: "invalid_api_key", message: expect.stringContaining("Missing token") },
    });
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      detail: { status: "invalid_api_key", message: expect.stringContaining("Invalid token") },
    });
    // The API key is no credential here (and the route is not an API-key route).
    expect((await server.fetch("/metrics")).status).toBe(401);
    const basic = await fetch(`${server.url}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
    await scrape();
  });

  it("answers HEAD like GET: 200 with the token (no API key asked), 401 with the token challenge without", async () => {
    const head = await fetch(`${server.url}/metrics`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const without = await fetch(`${server.url}/metrics`, { method: "HEAD" });
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
  });

  it("counts requests by route pattern (never the raw URL) and status, with their latency", async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    for (const id of ["conv_metrics_a", "conv_metrics_b"])
      expect((await server.fetch(`/v1/convai/conversations/${id}`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/convai/conversations`)).status).toBe(401);
    expect((await server.fetch("/no/such/route")).status).toBe(404);
    const after = await scrape();
    const text = after.map((s) => JSON.stringify(s.labels)).join("\n");
    expect(text).not.toContain("conv_metrics_a");
    expect(text).not.toContain("/no/such/route");
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    const requests = "openconvai_http_requests_total";
    expect(delta(requests, { method: "GET", route: "/healthz", status: "200" })).toBe(3);
    const conversation = "/v1/convai/conversations/:conversation_id";
    expect(delta(requests, { method: "GET", route: conversation, status: "404" })).toBe(2);
    expect(delta(requests, { method: "GET", route: "/v1/convai/conversations", status: "401" })).toBe(1);
    expect(delta(requests, { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    // The scrape before this one is counted too (its answer was sent before this scrape).
    expect(delta(requests, { method: "GET", route: "/metrics", status: "200" })).toBe(1);
    const count = "openconvai_http_request_duration_seconds_count";
    expect(delta(count, { method: "GET", route: "/healthz" })).toBe(3);
    expect(delta(count, { method: "GET", route: conversation })).toBe(2);
    const inf = sampleValue(after, "openconvai_http_request_duration_seconds_bucket", {
      method: "GET",
      route: "/healthz",
      le: "+Inf",
    });
    expect(inf).toBe(sampleValue(after, count, { method: "GET", route: "/healthz" }));
    expect(
      sampleValue(after, "openconvai_http_request_duration_seconds_sum", {
        method: "GET",
        route: "/healthz",
      }),
    ).toBeGreaterThan(0);
  });

  it("serves the same families on the metrics port without a key, and nothing else there", async () => {
    const url = server.server.metricsUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    const names = namesOf(parseMetrics(await response.text()));
    for (const name of [
      "openconvai_http_requests_total",
      "openconvai_live_sessions",
      "process_cpu_user_seconds_total",
    ])
      expect(names.has(name)).toBe(true);
    expect((await fetch(`${url}/other`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("counts live sessions and times a voice reply's stages", async () => {
    const before = await scrape();
    const created = await server.fetch("/v1/convai/agents/create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        conversation_config: { agent: { first_message: "" } },
        platform_settings: { privacy: { record_voice: false } },
      }),
    });
    const { agent_id: agentId } = (await created.json()) as { agent_id: string };
    const client = await connectVoice(server.url, agentId);
    try {
      client.stream(speechSignal(2600, [[500, 1300]]), PCM16);
      await client.waitFor((f) => f.type === "agent_response");
      await client.waitFor((f) => f.type === "audio");
      const live = await eventually(scrape, (s) => sampleValue(s, "openconvai_live_sessions") === 1);
      expect(sampleValue(live, "openconvai_live_sessions")).toBe(1);
      expect(
        sampleValue(live, "openconvai_live_sessions_started_total") -
          sampleValue(before, "openconvai_live_sessions_started_total"),
      ).toBe(1);
      for (const stage of ["turn_detection", "asr", "llm", "tts"]) {
        const name = "openconvai_turn_stage_duration_seconds_count";
        expect(sampleValue(live, name, { stage }) - sampleValue(before, name, { stage })).toBe(1);
      }
    } finally {
      client.socket.close(1000);
    }
    const ended = await eventually(scrape, (s) => sampleValue(s, "openconvai_live_sessions") === 0);
    expect(sampleValue(ended, "openconvai_live_sessions")).toBe(0);
  });

  it("counts webhook attempts by result and reads the outbox's depth", async () => {
    const before = await scrape();
    const created = await server.client.webhooks.create({
      settings: { authType: "hmac", name: "metrics receiver", webhookUrl: receiver.url },
    });
    const store = server.server.services.db.outgoingWebhooks;
    const now = Date.now();
    // Answered 200 (delivered), then 503 (due again in an hour); one more queued for later.
    receiver.script.push({ status: 200 }, { status: 503 });
    await store.enqueue([delivery("m_ok", created.webhookId, now)]);
    await eventually(
      async () => receiver.requests.length,
      (n) => n === 1,
    );
    await store.enqueue([
      delivery("m_retry", created.webhookId, now),
      delivery("m_later", created.webhookId, now + HOUR),
    ]);
    await eventually(
      async () => receiver.requests.length,
      (n) => n === 2,
    );
    const after = await eventually(
      scrape,
      (s) => sampleValue(s, "openconvai_webhook_attempts_total", { result: "retry" }) > 0,
    );
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta("openconvai_webhook_attempts_total", { result: "delivered" })).toBe(1);
    expect(delta("openconvai_webhook_attempts_total", { result: "retry" })).toBe(1);
    expect(delta("openconvai_webhook_attempts_total", { result: "failed" })).toBe(0);
    expect(delta("openconvai_webhook_attempt_duration_seconds_count")).toBe(2);
    // The one waiting an hour for its retry and the one queued for later.
    expect(sampleValue(after, "openconvai_webhook_outbox_depth")).toBe(2);
  });

  it("counts blob operations by kind and result, with their time", async () => {
    expect((await putConversation(server, buildConversation({ id: "conv_metrics_audio" }))).status).toBe(201);
    const before = await scrape();
    expect(
      (await putAudio(server, "conv_metrics_audio", new Uint8Array(500).fill(7), "audio/mpeg")).status,
    ).toBe(200);
    const audio = await server.fetch("/v1/convai/conversations/conv_metrics_audio/audio");
    expect(audio.status).toBe(200);
    expect((await audio.arrayBuffer()).byteLength).toBe(500);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta("openconvai_blob_operations_total", { operation: "put", result: "ok" })).toBe(1);
    expect(delta("openconvai_blob_operations_total", { operation: "get", result: "ok" })).toBe(1);
    expect(delta("openconvai_blob_operations_total", { operation: "put", result: "error" })).toBe(0);
    expect(delta("openconvai_blob_operation_duration_seconds_count", { operation: "put" })).toBe(1);
  });

  it(`reports the database pool and query times ${backend === "postgres" ? "" : "only on PostgreSQL"}`, async () => {
    const before = await scrape();
    await server.client.conversationalAi.conversations.list();
    const after = await scrape();
    const names = namesOf(after);
    const pool = [
      "openconvai_db_pool_connections",
      "openconvai_db_pool_idle_connections",
      "openconvai_db_pool_waiting_queries",
      "openconvai_db_pool_max_connections",
      "openconvai_db_query_duration_seconds_count",
    ];
    if (backend === "sqlite") {
      for (const name of pool) expect(names.has(name)).toBe(false);
      return;
    }
    expect(sampleValue(after, "openconvai_db_pool_max_connections")).toBe(10);
    const open = sampleValue(after, "openconvai_db_pool_connections");
    expect(open).toBeGreaterThanOrEqual(1);
    expect(open).toBeLessThanOrEqual(10);
    expect(sampleValue(after, "openconvai_db_pool_idle_connections")).toBeLessThanOrEqual(open);
    // A query of the scrape itself (the outbox's depth) or of a background job may be waiting for a connection.
    expect(Number.isInteger(sampleValue(after, "openconvai_db_pool_waiting_queries"))).toBe(true);
    expect(names.has("openconvai_db_pool_waiting_queries")).toBe(true);
    const queries = (s: Sample[]) =>
      sampleValue(s, "openconvai_db_query_duration_seconds_count", { result: "ok" });
    // The list ran at least one query (and each scrape one for the outbox).
    expect(queries(after) - queries(before)).toBeGreaterThanOrEqual(2);
  });

  it("includes the process's own metrics", async () => {
    const names = namesOf(await scrape());
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
    ])
      expect(names.has(name)).toBe(true);
  });
});

describe("metrics left off", () => {
  it("has no /metrics route without a token or a port (404 with a key)", async () => {
    const server = await startTestServer("sqlite");
    try {
      const response = await server.fetch("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        detail: { status: "not_found", message: "No route for GET /metrics." },
      });
      expect(server.server.metricsUrl).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});
