import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewOutgoingDelivery, WorkspaceWebhook } from "../../src/store/outgoing-webhook-store.js";
import type { Database } from "../../src/store/store.js";
import { WebhookPlanner, type WebhookPlannerDeps } from "../../src/webhooks-out/webhook-planner.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { testWebhook } from "../support/outgoing-webhooks.js";

const SCHEDULE = [0, 30_000, 120_000, 480_000];
const START_MS = 1_750_000_000_500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A webhook as the store keeps it, with the defaults the API gives a new one. */
function webhook(webhookId: string, change: Partial<WorkspaceWebhook> = {}): WorkspaceWebhook {
  return testWebhook(webhookId, {
    name: `Webhook ${webhookId}`,
    url: `https://example.com/${webhookId}`,
    secret: `wsec_${"0".repeat(64)}`,
    ...change,
  });
}

/** What a delivery is, without what is new each time (its id). */
const shape = (d: NewOutgoingDelivery) => ({
  webhookId: d.webhookId,
  eventType: d.eventType,
  excludeTranscript: d.excludeTranscript,
  maxAttempts: d.maxAttempts,
});

describe.each(BACKENDS)("WebhookPlanner on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let nowMs: number;
  let notified: number;
  let warnings: { context: object; message: string }[];

  const planner = (change: Partial<WebhookPlannerDeps["config"]> = {}) =>
    new WebhookPlanner({
      store: db.outgoingWebhooks,
      agents: db.agents,
      config: { relay: false, retryScheduleMs: SCHEDULE, ...change },
      now: () => nowMs,
      notify: () => {
        notified++;
      },
      logger: { warn: (context, message) => warnings.push({ context, message }) },
    });
  const putWebhooks = (webhooks: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
    db.outgoingWebhooks.putSettings(JSON.stringify({ ...rest, webhooks }));
  const addAgent = (agentId: string, overrides: Record<string, unknown> | undefined) =>
    db.agents.createAgent({
      agentId,
      json: JSON.stringify({
        name: agentId,
        conversation_config: {},
        ...(overrides ? { platform_settings: { workspace_overrides: { webhooks: overrides } } } : {}),
      }),
      searchName: agentId,
      createdAtUnixSecs: 1_700_000_000,
    });
  const live = (agentId: string | null = "agent_a") => ({ conversationId: "conv_1", agentId });

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    nowMs = START_MS;
    notified = 0;
    warnings = [];
    for (const id of ["wh_a", "wh_b", "wh_c"]) await db.outgoingWebhooks.insertWebhook(webhook(id));
  });
  afterEach(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it("plans nothing when the workspace names no webhook", async () => {
    expect(await planner().planFinished(live(), "live", { expectAudio: true })).toEqual([]);
    await db.outgoingWebhooks.putSettings(JSON.stringify({ can_use_mcp_servers: true }));
    expect(await planner().planFinished(live(), "live", { expectAudio: true })).toEqual([]);
  });

  it("plans one transcription per named webhook when events are not set, with the delivery's fixed fields", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a" });
    const [delivery, ...rest] = await planner().planFinished(live(), "live", { expectAudio: true });
    expect(rest).toEqual([]);
    expect(delivery).toEqual({
      deliveryId: expect.stringMatching(UUID),
      webhookId: "wh_a",
      eventType: "post_call_transcription",
      conversationId: "conv_1",
      agentId: "agent_a",
      eventTimestamp: Math.floor(START_MS / 1000),
      payload: null,
      excludeTranscript: false,
      maxAttempts: SCHEDULE.length,
      createdAtMs: START_MS,
    });
    const again = await planner().planFinished(live(), "live");
    expect(again[0]?.deliveryId).not.toBe(delivery?.deliveryId);
  });

  it("adds the audio after the transcription when send_audio is on (events not set) and audio is expected", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a", send_audio: true });
    const planned = await planner().planFinished(live(), "live", { expectAudio: true });
    expect(planned.map((d) => d.eventType)).toEqual(["post_call_transcription", "post_call_audio"]);
    expect(planned.map((d) => d.webhookId)).toEqual(["wh_a", "wh_a"]);
    const noAudio = await planner().planFinished(live(), "live", { expectAudio: false });
    expect(noAudio.map((d) => d.eventType)).toEqual(["post_call_transcription"]);
  });

  it("sends exactly the events listed: audio only, or none of the post-call ones", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a", events: ["audio"], send_audio: false });
    const audioOnly = await planner().planFinished(live(), "live", { expectAudio: true });
    expect(audioOnly.map(shape)).toEqual([
      { webhookId: "wh_a", eventType: "post_call_audio", excludeTranscript: false, maxAttempts: 4 },
    ]);
    await putWebhooks({
      post_call_webhook_id: "wh_a",
      events: ["call_initiation_failure"],
      send_audio: true,
    });
    expect(await planner().planFinished(live(), "live", { expectAudio: true })).toEqual([]);
  });

  it("uses the OpenTelemetry type with transcript_format opentelemetry, and exclude_transcript only for JSON", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a", events: ["transcript"], exclude_transcript: true });
    expect((await planner().planFinished(live(), "live")).map(shape)).toEqual([
      { webhookId: "wh_a", eventType: "post_call_transcription", excludeTranscript: true, maxAttempts: 4 },
    ]);
    await putWebhooks({
      post_call_webhook_id: "wh_a",
      events: ["transcript"],
      exclude_transcript: true,
      transcript_format: "opentelemetry",
    });
    expect((await planner().planFinished(live(), "live")).map(shape)).toEqual([
      {
        webhookId: "wh_a",
        eventType: "post_call_transcription_otel",
        excludeTranscript: false,
        maxAttempts: 4,
      },
    ]);
  });

  it("lets the agent's workspace_overrides win field by field, keeping the workspace's other fields", async () => {
    await putWebhooks({
      post_call_webhook_id: "wh_a",
      events: ["transcript", "audio"],
      exclude_transcript: true,
    });
    await addAgent("agent_override_id", { post_call_webhook_id: "wh_b" });
    await addAgent("agent_override_format", { transcript_format: "opentelemetry", events: ["transcript"] });
    await addAgent("agent_nulls", { post_call_webhook_id: null, events: null });
    await addAgent("agent_plain", undefined);

    const byId = await planner().planFinished(live("agent_override_id"), "live", { expectAudio: true });
    expect(byId.map(shape)).toEqual([
      { webhookId: "wh_b", eventType: "post_call_transcription", excludeTranscript: true, maxAttempts: 4 },
      { webhookId: "wh_b", eventType: "post_call_audio", excludeTranscript: false, maxAttempts: 4 },
    ]);
    const byFormat = await planner().planFinished(live("agent_override_format"), "live", {
      expectAudio: true,
    });
    expect(byFormat.map(shape)).toEqual([
      {
        webhookId: "wh_a",
        eventType: "post_call_transcription_otel",
        excludeTranscript: false,
        maxAttempts: 4,
      },
    ]);
    // A null override is "not overridden": the workspace's value stands.
    const byNulls = await planner().planFinished(live("agent_nulls"), "live", { expectAudio: true });
    expect(byNulls.map((d) => [d.webhookId, d.eventType])).toEqual([
      ["wh_a", "post_call_transcription"],
      ["wh_a", "post_call_audio"],
    ]);
    for (const agentId of ["agent_plain", "agent_unknown", null]) {
      const planned = await planner().planFinished(live(agentId), "live");
      expect(planned.map((d) => [d.webhookId, d.eventType, d.agentId])).toEqual([
        ["wh_a", "post_call_transcription", agentId],
      ]);
    }
  });

  it("sends to post_call_webhook_id and every post_call_webhook_ids webhook that exists, each once", async () => {
    await putWebhooks({
      post_call_webhook_id: "wh_a",
      post_call_webhook_ids: ["wh_c", "wh_a", "wh_gone", "wh_b"],
    });
    const planned = await planner().planFinished(live(), "live");
    expect(planned.map((d) => d.webhookId)).toEqual(["wh_a", "wh_c", "wh_b"]);
    await addAgent("agent_list", { post_call_webhook_ids: ["wh_b"] });
    const overridden = await planner().planFinished(live("agent_list"), "live");
    expect(overridden.map((d) => d.webhookId)).toEqual(["wh_a", "wh_b"]);
  });

  it("plans relayed conversations only in relay mode; relayed audio is planned by planAudio", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a", events: ["transcript", "audio"] });
    const off = planner({ relay: false });
    expect(off.relay).toBe(false);
    expect(await off.planFinished(live(), "relay", { expectAudio: true })).toEqual([]);
    expect(await off.planAudio(live(), "relay")).toEqual([]);

    const on = planner({ relay: true });
    expect(on.relay).toBe(true);
    expect((await on.planFinished(live(), "relay")).map((d) => d.eventType)).toEqual([
      "post_call_transcription",
    ]);
    expect((await on.planAudio(live(), "relay")).map(shape)).toEqual([
      { webhookId: "wh_a", eventType: "post_call_audio", excludeTranscript: false, maxAttempts: 4 },
    ]);
    // A live call's audio comes with its transcription, never from planAudio.
    expect(await on.planAudio(live(), "live")).toEqual([]);

    await putWebhooks({ post_call_webhook_id: "wh_a", events: ["transcript"] });
    expect(await planner({ relay: true }).planAudio(live(), "relay")).toEqual([]);
  });

  it("gives a webhook whose retries are off a single attempt", async () => {
    await db.outgoingWebhooks.updateWebhook("wh_b", { retryEnabled: false });
    await putWebhooks({ post_call_webhook_id: "wh_a", post_call_webhook_ids: ["wh_b"], send_audio: true });
    const planned = await planner().planFinished(live(), "live", { expectAudio: true });
    expect(planned.map((d) => [d.webhookId, d.eventType, d.maxAttempts])).toEqual([
      ["wh_a", "post_call_transcription", 4],
      ["wh_a", "post_call_audio", 4],
      ["wh_b", "post_call_transcription", 1],
      ["wh_b", "post_call_audio", 1],
    ]);
  });

  it("queues a call initiation failure with its payload for each webhook, and wakes the sender", async () => {
    await putWebhooks({
      post_call_webhook_id: "wh_a",
      post_call_webhook_ids: ["wh_b"],
      events: ["call_initiation_failure"],
    });
    const failure = {
      agentId: "agent_a",
      conversationId: "conv_failed",
      failureReason: "override_refused",
      metadata: { type: "websocket", body: { close_code: 1008, close_reason: "override not allowed" } },
    };
    await planner().report(failure);
    expect(notified).toBe(1);
    const queued = await db.outgoingWebhooks.listDeliveries({ limit: 10 });
    expect(queued.map((d) => d.webhookId).sort()).toEqual(["wh_a", "wh_b"]);
    for (const delivery of queued) {
      expect(delivery).toMatchObject({
        eventType: "call_initiation_failure",
        conversationId: "conv_failed",
        agentId: "agent_a",
        eventTimestamp: Math.floor(START_MS / 1000),
        status: "pending",
        maxAttempts: 4,
      });
      expect(JSON.parse(delivery.payload ?? "null")).toEqual({
        agent_id: "agent_a",
        conversation_id: "conv_failed",
        failure_reason: "override_refused",
        metadata: { type: "websocket", body: { close_code: 1008, close_reason: "override not allowed" } },
      });
    }
    expect(warnings).toEqual([]);
  });

  it("queues no failure webhook when the event is off (the default), and the agent's override can turn it on", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a" });
    const failure = {
      agentId: null,
      conversationId: null,
      failureReason: "capacity",
      metadata: { type: "websocket", body: {} },
    };
    await planner().report(failure);
    expect(await db.outgoingWebhooks.listDeliveries({ limit: 10 })).toEqual([]);
    expect(notified).toBe(0);

    await addAgent("agent_failures", { events: ["call_initiation_failure"] });
    await planner().report({ ...failure, agentId: "agent_failures" });
    const queued = await db.outgoingWebhooks.listDeliveries({ limit: 10 });
    expect(queued.map((d) => [d.webhookId, d.eventType, d.conversationId])).toEqual([
      ["wh_a", "call_initiation_failure", null],
    ]);
    expect(JSON.parse(queued[0]?.payload ?? "null")).toEqual({
      agent_id: "agent_failures",
      conversation_id: null,
      failure_reason: "capacity",
      metadata: { type: "websocket", body: {} },
    });
  });

  it("bounds failure reports (they need no key): 20 a minute per agent and reason, then dropped and counted in one warning", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a", events: ["call_initiation_failure"] });
    const reporter = planner();
    const failure = (agentId: string, failureReason = "origin_not_allowed") => ({
      agentId,
      conversationId: null,
      failureReason,
      metadata: { type: "websocket", body: {} },
    });
    for (let i = 0; i < 25; i++) await reporter.report(failure("agent_a"));
    // Another reason, another agent: each its own allowance.
    await reporter.report(failure("agent_a", "capacity"));
    await reporter.report(failure("agent_b"));
    expect(await db.outgoingWebhooks.listDeliveries({ limit: 100 })).toHaveLength(22);
    expect(warnings.map((w) => w.message)).toEqual([
      "call_initiation_failure webhooks over their rate were not queued",
    ]);
    // A minute later the allowance is back.
    nowMs += 60_000;
    await reporter.report(failure("agent_a"));
    expect(await db.outgoingWebhooks.listDeliveries({ limit: 100 })).toHaveLength(23);
  });

  it("never throws from report: a store that fails is logged at warn, without the failure's details", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a", events: ["call_initiation_failure"] });
    const reporter = planner();
    await db.close();
    await expect(
      reporter.report({
        agentId: "agent_a",
        conversationId: "conv_x",
        failureReason: "auth_failed",
        metadata: { type: "websocket", body: { close_reason: "secret-token-xyz" } },
      }),
    ).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain("secret-token-xyz");
    expect(notified).toBe(0);
    db = await storage.open();
  });

  it("reads the settings and webhooks once a second, and again at once after forget()", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a" });
    const cached = planner();
    expect((await cached.planFinished(live(), "live")).map((d) => d.webhookId)).toEqual(["wh_a"]);
    await putWebhooks({ post_call_webhook_id: "wh_b" });
    nowMs += 500;
    expect((await cached.planFinished(live(), "live")).map((d) => d.webhookId)).toEqual(["wh_a"]);
    nowMs += 500;
    expect((await cached.planFinished(live(), "live")).map((d) => d.webhookId)).toEqual(["wh_b"]);
    await putWebhooks({ post_call_webhook_id: "wh_c" });
    cached.forget();
    expect((await cached.planFinished(live(), "live")).map((d) => d.webhookId)).toEqual(["wh_c"]);
  });

  it("plans a batch of 1,000 relayed conversations from one read of the settings, the webhooks and the agent", async () => {
    await putWebhooks({ post_call_webhook_id: "wh_a" });
    await addAgent("agent_a", { exclude_transcript: true });
    const reads = { settings: 0, webhooks: 0, agents: 0 };
    const store = db.outgoingWebhooks;
    const agents = db.agents;
    // The real stores, each read counted.
    const relay = new WebhookPlanner({
      store: Object.assign(Object.create(store), {
        getSettings: () => {
          reads.settings++;
          return store.getSettings();
        },
        listWebhooks: () => {
          reads.webhooks++;
          return store.listWebhooks();
        },
      }),
      agents: Object.assign(Object.create(agents), {
        getAgent: (id: string) => {
          reads.agents++;
          return agents.getAgent(id);
        },
      }),
      config: { relay: true, retryScheduleMs: SCHEDULE },
      now: () => nowMs,
    });
    const batch = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        relay.planFinished({ conversationId: `conv_${i}`, agentId: "agent_a" }, "relay"),
      ),
    );
    expect(batch.flat()).toHaveLength(1000);
    expect(new Set(batch.flat().map((d) => `${d.webhookId} ${d.excludeTranscript}`))).toEqual(
      new Set(["wh_a true"]),
    );
    expect(new Set(batch.flat().map((d) => d.deliveryId)).size).toBe(1000);
    expect(reads).toEqual({ settings: 1, webhooks: 1, agents: 1 });
    nowMs += 1000;
    await relay.planFinished(live(), "relay");
    expect(reads).toEqual({ settings: 2, webhooks: 2, agents: 2 });
  });
});
