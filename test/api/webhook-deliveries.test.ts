/**
 * The outgoing webhook delivery log and its replay over HTTP (`/v1/workspace/webhooks/deliveries…`):
 * deliveries are seeded through the store as the sender leaves them, a replay is sent by the
 * running server to a local receiver that verifies it with the SDK's constructEvent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AttemptOutcome, NewOutgoingDelivery } from "../../src/store/outgoing-webhook-store.js";
import { eventually } from "../runtime/eventually.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { constructEvent, startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

type Json = Record<string, unknown>;

const HOUR = 3_600_000;
const DELIVERIES = "/v1/workspace/webhooks/deliveries";
const NODE = "node-api-test";
const RULE = { failures: 10, quietMs: 7 * 24 * HOUR };
/** Long polls: only a replay's wake-up sends anything while a test runs. */
const ENV = {
  OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
  OPENCONVAI_WEBHOOK_POLL_MS: "60000",
  OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: "0,30s,2m",
};

/** A `call_initiation_failure` delivery: its data is fixed when queued, so it needs no conversation. */
function delivery(deliveryId: string, webhookId: string, createdAtMs: number): NewOutgoingDelivery {
  const conversationId = `conv_${deliveryId}`;
  return {
    deliveryId,
    webhookId,
    eventType: "call_initiation_failure",
    conversationId,
    agentId: "agent_1",
    eventTimestamp: Math.floor(createdAtMs / 1000),
    payload: JSON.stringify({
      agent_id: "agent_1",
      conversation_id: conversationId,
      failure_reason: "capacity",
      metadata: { type: "websocket", body: { close_code: 1013 } },
    }),
    excludeTranscript: false,
    maxAttempts: 3,
    createdAtMs,
  };
}

describe.each(BACKENDS)("the webhook delivery log API (%s)", (backend) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let round = 0;
  /** This test's webhook, its secret, and the ids of its deliveries (d0 … d4). */
  let webhookId: string;
  let secret: string;
  let id: (name: string) => string;

  beforeAll(async () => {
    server = await startTestServer(backend, ENV);
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  /**
   * A webhook of this test's own (made with the SDK) and its log: d0 failed 30 h ago (410), d1
   * delivered 3 h ago, d2 failed 2 h ago (404), d3 failed once an hour ago and waits, d4 queued
   * now and not tried yet.
   */
  beforeEach(async () => {
    round += 1;
    const prefix = `r${round}_`;
    id = (name) => `${prefix}${name}`;
    const created = await server.client.webhooks.create({
      settings: { authType: "hmac", name: `receiver ${round}`, webhookUrl: receiver.url },
    });
    webhookId = created.webhookId;
    secret = created.webhookSecret ?? "";
    const store = server.server.services.db.outgoingWebhooks;
    const now = Date.now();
    await store.enqueue([
      delivery(id("d0"), webhookId, now - 30 * HOUR),
      delivery(id("d1"), webhookId, now - 3 * HOUR),
      delivery(id("d2"), webhookId, now - 2 * HOUR),
      delivery(id("d3"), webhookId, now - HOUR),
      delivery(id("d4"), webhookId, now + 60_000),
    ]);
    const outcomes: Record<string, [AttemptOutcome, number]> = {
      [id("d0")]: [{ status: "failed" }, 410],
      [id("d1")]: [{ status: "delivered" }, 200],
      [id("d2")]: [{ status: "failed" }, 404],
      [id("d3")]: [{ status: "pending", nextAttemptAtMs: now + HOUR }, 503],
    };
    for (const d of await store.claimDue(NODE, now, 100, 60_000, 100)) {
      const [outcome, statusCode] = outcomes[d.deliveryId] ?? [];
      if (!outcome || statusCode === undefined) continue;
      await store.recordAttempt(
        NODE,
        {
          deliveryId: d.deliveryId,
          attempt: 1,
          startedAtMs: now,
          url: receiver.url,
          statusCode,
          error: statusCode === 200 ? null : `HTTP ${statusCode}`,
          latencyMs: 7,
          responseHead: statusCode === 200 ? "ok" : "nope",
        },
        outcome,
        RULE,
      );
    }
    await store.releaseNode(NODE);
  });

  /** GETs a path with the key; the status and the JSON body. */
  async function get(pathAndQuery: string): Promise<{ status: number; body: Json }> {
    const response = await server.fetch(pathAndQuery);
    return { status: response.status, body: (await response.json()) as Json };
  }

  /** POSTs JSON (or nothing) with the key; the status and the JSON body. */
  async function post(path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const response = await server.fetch(path, {
      method: "POST",
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  const idsOf = (body: Json) => (body.deliveries as Json[]).map((d) => d.delivery_id);

  it("lists a webhook's deliveries newest first, in the log's shape", async () => {
    const { status, body } = await get(`${DELIVERIES}?webhook_id=${webhookId}`);
    expect(status).toBe(200);
    expect(idsOf(body)).toEqual(["d4", "d3", "d2", "d1", "d0"].map(id));
    expect(body).toMatchObject({ has_more: false, next_cursor: null });
    const d2 = (body.deliveries as Json[])[2];
    expect(d2).toEqual({
      delivery_id: id("d2"),
      webhook_id: webhookId,
      event_type: "call_initiation_failure",
      conversation_id: `conv_${id("d2")}`,
      agent_id: "agent_1",
      status: "failed",
      attempts: 1,
      max_attempts: 3,
      created_at_unix: expect.any(Number),
      last_status_code: 404,
      last_error: "HTTP 404",
    });
    expect((body.deliveries as Json[])[1]).toMatchObject({
      status: "pending",
      next_attempt_at_unix: expect.any(Number),
    });
  });

  it("filters by status, since and conversation_id, and pages with the cursor", async () => {
    const scoped = `${DELIVERIES}?webhook_id=${webhookId}`;
    expect(idsOf((await get(`${scoped}&status=failed`)).body)).toEqual([id("d2"), id("d0")]);
    expect(idsOf((await get(`${scoped}&status=failed&since=24h`)).body)).toEqual([id("d2")]);
    const since = Math.floor((Date.now() - 2.5 * HOUR) / 1000);
    expect(idsOf((await get(`${scoped}&since=${since}`)).body)).toEqual(["d4", "d3", "d2"].map(id));
    expect(idsOf((await get(`${DELIVERIES}?conversation_id=conv_${id("d1")}`)).body)).toEqual([id("d1")]);

    const first = await get(`${scoped}&page_size=2`);
    expect(idsOf(first.body)).toEqual([id("d4"), id("d3")]);
    expect(first.body.has_more).toBe(true);
    const cursor = encodeURIComponent(String(first.body.next_cursor));
    const second = await get(`${scoped}&page_size=2&cursor=${cursor}`);
    expect(idsOf(second.body)).toEqual([id("d2"), id("d1")]);
    const third = await get(
      `${scoped}&page_size=2&cursor=${encodeURIComponent(String(second.body.next_cursor))}`,
    );
    expect(idsOf(third.body)).toEqual([id("d0")]);
    expect(third.body).toMatchObject({ has_more: false, next_cursor: null });
  });

  it("refuses a page size over 100, an unknown status, a foreign cursor and an unreadable since (422)", async () => {
    const locOf = async (query: string) => {
      const { status, body } = await get(`${DELIVERIES}?${query}`);
      expect(status, query).toBe(422);
      return (body.detail as Json[])[0]?.loc;
    };
    expect(await locOf("page_size=101")).toEqual(["query", "page_size"]);
    expect(await locOf("status=lost")).toEqual(["query", "status"]);
    expect(await locOf("cursor=bm90LWEtY3Vyc29y")).toEqual(["query", "cursor"]);
    expect(await locOf("since=yesterday")).toEqual(["query", "since"]);
  });

  it("gets one delivery with its attempts; an unknown one is 404 webhook_delivery_not_found", async () => {
    const { status, body } = await get(`${DELIVERIES}/${id("d2")}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ delivery_id: id("d2"), status: "failed", last_status_code: 404 });
    expect(body.attempts).toEqual([
      {
        attempt: 1,
        started_at_unix_ms: expect.any(Number),
        url: receiver.url,
        status_code: 404,
        error: "HTTP 404",
        latency_ms: 7,
        response_head: "nope",
      },
    ]);
    const missing = await get(`${DELIVERIES}/nope`);
    expect(missing.status).toBe(404);
    expect((missing.body.detail as Json).status).toBe("webhook_delivery_not_found");
  });

  it("redelivers one delivery: the server sends it at once, same id, next attempt number, verifiable", async () => {
    const { status, body } = await post(`${DELIVERIES}/${id("d2")}/redeliver`);
    expect(status).toBe(200);
    expect(body).toEqual({ redelivered: 1 });
    const arrived = await eventually(
      async () => receiver.requests.filter((r) => r.headers["openconvai-delivery-id"] === id("d2")),
      (requests) => requests.length > 0,
      10_000,
    );
    expect(arrived).toHaveLength(1);
    const request = arrived[0];
    if (!request) throw new Error("not sent");
    expect(request.headers["openconvai-delivery-attempt"]).toBe("2");
    const event = await constructEvent(request, secret);
    expect(event).toMatchObject({
      type: "call_initiation_failure",
      data: { conversation_id: `conv_${id("d2")}`, failure_reason: "capacity" },
    });
    const after = await eventually(
      async () => (await get(`${DELIVERIES}/${id("d2")}`)).body,
      (d) => d.status === "delivered",
    );
    expect(after).toMatchObject({ status: "delivered", max_attempts: 4, last_status_code: 200 });
    expect((after.attempts as Json[]).map((a) => a.status_code)).toEqual([404, 200]);

    expect((await post(`${DELIVERIES}/nope/redeliver`)).status).toBe(404);
  });

  it("redelivers by filter: failed since a time, and only those", async () => {
    const { status, body } = await post(`${DELIVERIES}/redeliver`, {
      status: "failed",
      since: "24h",
      webhook_id: webhookId,
    });
    expect(status).toBe(200);
    expect(body).toEqual({ redelivered: 1 });
    await eventually(
      async () => (await get(`${DELIVERIES}/${id("d2")}`)).body,
      (d) => d.status === "delivered",
    );
    expect((await get(`${DELIVERIES}/${id("d0")}`)).body.status).toBe("failed");
  });

  it("refuses a replay by filter without a filter, with an unknown key or another status (422)", async () => {
    for (const body of [
      {},
      { status: "failed", webhookid: webhookId },
      { status: "delivered" },
      { since: "soon" },
    ]) {
      const answer = await post(`${DELIVERIES}/redeliver`, body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
    }
    expect((await get(`${DELIVERIES}?webhook_id=${webhookId}&status=failed`)).body.deliveries).toHaveLength(
      2,
    );
  });
});
