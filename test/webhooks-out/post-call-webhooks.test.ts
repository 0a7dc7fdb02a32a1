/**
 * Post-call webhooks end to end: configured with the official SDK, sent by a running server,
 * received by a local receiver that verifies every request with the SDK's constructEvent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAudioFormat } from "../../src/audio/audio-format.js";
import { buildConversation } from "../fixtures/conversations.js";
import { eventually } from "../runtime/eventually.js";
import { startTextSession } from "../runtime/text-session.js";
import { connectVoice, speechSignal } from "../runtime/voice-client.js";
import { BACKENDS } from "../support/backends.js";
import { putConversation } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

type Json = Record<string, unknown>;

/** Retries come quickly here: 400 ms, 800 ms, 1.2 s, then 300 ms apart; no jitter, so the times can be checked. */
const SCHEDULE_MS = [0, 400, 800, 1200, 300, 300, 300, 300, 300, 300, 300, 300];
const ENV = {
  OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
  OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(","),
  OPENCONVAI_WEBHOOK_RETRY_JITTER: "0",
  OPENCONVAI_WEBHOOK_POLL_MS: "50",
  OPENCONVAI_WEBHOOK_TIMEOUT_SECS: "2",
  OPENCONVAI_WEBHOOK_RELAY: "true",
};

const PCM16 = getAudioFormat("pcm_16000");

describe.each(BACKENDS)("post-call webhooks out (%s)", (backend) => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend, ENV);
  });
  afterAll(async () => {
    await server?.stop();
    for (const receiver of receivers) await receiver.close();
  });

  /** A receiver with a webhook of its own, made the workspace's post-call webhook for `events`. */
  async function configure(events: string[] = ["transcript"]) {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const created = await server.client.webhooks.create({
      settings: { authType: "hmac", name: `receiver ${receivers.length}`, webhookUrl: receiver.url },
    });
    const secret = created.webhookSecret ?? "";
    expect(secret).not.toBe("");
    await server.client.conversationalAi.settings.update({
      webhooks: { postCallWebhookId: created.webhookId, events: events as never },
    });
    return { receiver, secret, webhookId: created.webhookId };
  }

  /** Ingests a finished conversation (relay mode sends its transcription). */
  async function ingestDone(id: string): Promise<void> {
    const response = await putConversation(
      server,
      buildConversation({ id, status: "done", messages: ["hi", "hello"] }),
    );
    expect(response.status).toBe(201);
  }

  it("sends a live voice session's transcription, then its audio, each verified by the SDK", async () => {
    const { receiver, secret } = await configure(["transcript", "audio"]);
    const { agentId } = await server.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "" } },
    });
    const client = await connectVoice(server.url, agentId);
    client.stream(speechSignal(2600, [[500, 1300]]), PCM16);
    await client.waitFor((f) => f.type === "agent_response");
    const conversationId = client.conversationId();
    client.socket.close(1000);
    await client.closed;

    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 2,
      15_000,
    );
    expect(arrived.map((e) => e.event.type)).toEqual(["post_call_transcription", "post_call_audio"]);
    const [transcription, audio] = arrived as [(typeof arrived)[0], (typeof arrived)[0]];
    // `data` is exactly the GET body.
    const get = (await (await server.fetch(`/v1/convai/conversations/${conversationId}`)).json()) as Json;
    expect(transcription.event.data).toEqual(get);
    expect((transcription.event.data as Json).status).toBe("done");
    expect(typeof transcription.event.event_timestamp).toBe("number");
    // The audio: exactly three keys, the MP3 the audio route serves, base64, chunked.
    const data = audio.event.data as Json;
    expect(Object.keys(data).sort()).toEqual(["agent_id", "conversation_id", "full_audio"]);
    expect(data.conversation_id).toBe(conversationId);
    expect(data.agent_id).toBe(agentId);
    const mp3 = Buffer.from(
      await (await server.fetch(`/v1/convai/conversations/${conversationId}/audio`)).arrayBuffer(),
    );
    expect(Buffer.from(String(data.full_audio), "base64").equals(mp3)).toBe(true);
    expect(audio.request.headers["transfer-encoding"]).toBe("chunked");
    // Each delivery has a stable id of its own.
    const ids = arrived.map((e) => e.request.headers["openconvai-delivery-id"]);
    expect(new Set(ids).size).toBe(2);
  });

  it("sends call_initiation_failure when a session is refused (an override the agent does not allow)", async () => {
    const { receiver, secret } = await configure(["transcript", "call_initiation_failure"]);
    const { agentId } = await server.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello" } },
    });
    const session = await startTextSession(server.url, agentId, {
      overrides: { agent: { firstMessage: "Not allowed" } },
    }).catch(() => undefined);
    await session?.waitFor("disconnect").catch(() => undefined);
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 1,
    );
    expect(arrived).toHaveLength(1);
    const event = arrived[0]?.event as Json;
    expect(event.type).toBe("call_initiation_failure");
    const data = event.data as Json;
    expect(data.agent_id).toBe(agentId);
    expect(data.failure_reason).toBe("override_error");
    expect((data.metadata as Json).type).toBe("websocket");
  });

  it("retries 503, 429 with Retry-After and a dropped connection at the scheduled times, and the delivery arrives", async () => {
    const { receiver, secret } = await configure();
    receiver.script.push({ status: 503 }, { status: 429, retryAfter: "1" }, { drop: true });
    await ingestDone("conv_retried");
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 1,
      15_000,
    );
    expect(arrived).toHaveLength(1);
    expect(receiver.requests).toHaveLength(4);
    const times = receiver.requests.map((r) => r.atMs);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // 400 ms after the 503; at least the Retry-After's 1 s (over the schedule's 800 ms) after the 429; 1.2 s after the drop.
    const expected = [400, 1000, 1200];
    for (const [i, gap] of gaps.entries()) {
      expect(gap).toBeGreaterThanOrEqual((expected[i] as number) - 30);
      expect(gap).toBeLessThan((expected[i] as number) + 1500);
    }
    // One delivery: the same id on every attempt, attempts numbered.
    expect(new Set(receiver.requests.map((r) => r.headers["openconvai-delivery-id"])).size).toBe(1);
    expect(receiver.requests.map((r) => r.headers["openconvai-delivery-attempt"])).toEqual([
      "1",
      "2",
      "3",
      "4",
    ]);
    const data = arrived[0]?.event.data as Json;
    expect(data.conversation_id).toBe("conv_retried");
  });

  it("does not retry a 400: the delivery fails at once, and the log says why", async () => {
    const { receiver, webhookId } = await configure();
    receiver.fallback = { status: 400, body: "bad payload" };
    await ingestDone("conv_refused_400");
    const log = await eventually(
      async () =>
        (await (await server.fetch(`/v1/workspace/webhooks/deliveries?webhook_id=${webhookId}`)).json()) as {
          deliveries: Json[];
        },
      (page) => page.deliveries[0]?.status === "failed",
    );
    expect(log.deliveries).toHaveLength(1);
    expect(log.deliveries[0]?.attempts).toBe(1);
    expect(log.deliveries[0]?.last_status_code).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(receiver.requests).toHaveLength(1);
    const detail = (await (
      await server.fetch(`/v1/workspace/webhooks/deliveries/${String(log.deliveries[0]?.delivery_id)}`)
    ).json()) as { attempts: Json[] };
    expect(detail.attempts).toHaveLength(1);
    expect(detail.attempts[0]?.status_code).toBe(400);
    expect(detail.attempts[0]?.response_head).toBe("bad payload");
    expect(detail.attempts[0]?.url).toBe(receiver.url);
  });

  it("auto-disables a webhook after 10 failed attempts, keeps its deliveries, and sends them once re-enabled", async () => {
    const { receiver, secret, webhookId } = await configure();
    receiver.fallback = { status: 500 };
    await ingestDone("conv_auto_disabled");
    const disabled = await eventually(
      async () => (await server.client.webhooks.list()).webhooks.find((w) => w.webhookId === webhookId),
      (webhook) => webhook?.isAutoDisabled === true,
      20_000,
    );
    expect(disabled?.isAutoDisabled).toBe(true);
    expect(disabled?.mostRecentFailureErrorCode).toBe(500);
    expect(receiver.requests).toHaveLength(10);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(receiver.requests).toHaveLength(10);
    // Queued while disabled: kept, not dropped.
    await ingestDone("conv_while_disabled");
    receiver.fallback = { status: 200 };
    await server.client.webhooks.update(webhookId, { isDisabled: false, name: "receiver again" });
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 2,
      10_000,
    );
    expect(arrived.map((e) => (e.event.data as Json).conversation_id).sort()).toEqual([
      "conv_auto_disabled",
      "conv_while_disabled",
    ]);
    const after = (await server.client.webhooks.list()).webhooks.find((w) => w.webhookId === webhookId);
    expect(after?.isAutoDisabled).toBe(false);
  });

  it("redelivers a delivered webhook on request, with the same delivery id", async () => {
    const { receiver, secret, webhookId } = await configure();
    await ingestDone("conv_redelivered");
    await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 1,
    );
    const page = (await (
      await server.fetch(`/v1/workspace/webhooks/deliveries?webhook_id=${webhookId}`)
    ).json()) as {
      deliveries: Json[];
    };
    const deliveryId = String(page.deliveries[0]?.delivery_id);
    const replay = await server.fetch(`/v1/workspace/webhooks/deliveries/${deliveryId}/redeliver`, {
      method: "POST",
    });
    expect(replay.status).toBe(200);
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 2,
    );
    expect(arrived.map((e) => e.request.headers["openconvai-delivery-id"])).toEqual([deliveryId, deliveryId]);
  });

  it("relays an ingested finished conversation, and nothing for one still in progress", async () => {
    const { receiver, secret } = await configure();
    const running = await putConversation(
      server,
      buildConversation({ id: "conv_relay_running", status: "in-progress" }),
    );
    expect(running.status).toBe(201);
    await ingestDone("conv_relayed");
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(1);
    const event = arrived[0]?.event as Json;
    expect(event.type).toBe("post_call_transcription");
    const get = (await (await server.fetch("/v1/convai/conversations/conv_relayed")).json()) as Json;
    expect(event.data).toEqual(get);
  });
});
