/**
 * The delivery engine on every backend, against a local receiver: a transcription arrives as the
 * GET body in the envelope, signed so the official SDK's verifier accepts it; the other event
 * types; retries on a short schedule; a final 400; audio streamed and signed; audio that is not
 * there yet; a deleted conversation; the per-webhook concurrency; auto-disable after 10 failures;
 * the polling loop, its restart and its stop.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newAudioBlobKey } from "../../src/blobs/blob-keys.js";
import { FsBlobStore } from "../../src/blobs/fs/fs-blob-store.js";
import type { WebhooksOutConfig } from "../../src/config/webhooks-out-config.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import { renderStoredDocument } from "../../src/domain/stored-document.js";
import { buildConversationTrace } from "../../src/domain/trace/conversation-trace.js";
import { audioFlagsOf } from "../../src/store/audio-info.js";
import type { NewOutgoingDelivery, WorkspaceWebhook } from "../../src/store/outgoing-webhook-store.js";
import type { ConversationStore, Database } from "../../src/store/store.js";
import { AudioChangedError, buildDeliveryBody } from "../../src/webhooks-out/delivery-body.js";
import { type DispatcherLogger, WebhookDispatcher } from "../../src/webhooks-out/webhook-dispatcher.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";

const sdk = new ElevenLabsClient({ apiKey: "x" });
const SECRET = "wsec_dispatcher_test_secret";
const EVENT_TIMESTAMP = 1_760_000_000;

/** A request as the receiver got it. */
interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** How the receiver answers one request (default: 200 "ok"). */
type Answer = (res: ServerResponse) => void;

/** A local receiver: records every request, answers from a queue, and can hold answers back. */
class Receiver {
  readonly received: Received[] = [];
  readonly answers: Answer[] = [];
  /** When set, requests wait for `release()` before they are answered. */
  holding = false;
  inFlight = 0;
  maxInFlight = 0;
  private held: (() => void)[] = [];
  private readonly server: Server;
  url = "";

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        const answer = (): void => {
          this.inFlight--;
          const next = this.answers.shift();
          if (next) next(res);
          else res.end("ok");
        };
        if (this.holding) this.held.push(answer);
        else answer();
      });
    });
  }

  async listen(): Promise<void> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/elevenlabs`;
  }

  release(): void {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Answers with a status (and headers). */
const status =
  (code: number, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(code, headers);
    res.end(`status ${code}`);
  };

/** Collects log lines (to check what is logged, and that no secret is). */
class MemoryLogger implements DispatcherLogger {
  readonly lines: { level: string; obj: object; msg: string }[] = [];
  info(obj: object, msg: string): void {
    this.lines.push({ level: "info", obj, msg });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: "warn", obj, msg });
  }
  debug(obj: object, msg: string): void {
    this.lines.push({ level: "debug", obj, msg });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: "error", obj, msg });
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(BACKENDS)("the webhook dispatcher on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let blobs: FsBlobStore;
  let receiver: Receiver;
  let logger: MemoryLogger;
  let clock: number;
  let seq = 0;
  const dispatchers: WebhookDispatcher[] = [];

  const config = (change: Partial<WebhooksOutConfig> = {}): WebhooksOutConfig => ({
    allowPrivate: true,
    retryScheduleMs: [0, 1000, 1000],
    jitter: 0,
    timeoutMs: 5000,
    concurrencyPerEndpoint: 4,
    relay: false,
    pollMs: 20,
    ...change,
  });

  function dispatcher(
    change: Partial<WebhooksOutConfig> = {},
    deps: { conversations?: ConversationStore; nodeId?: string } = {},
  ): WebhookDispatcher {
    const made = new WebhookDispatcher({
      store: db.outgoingWebhooks,
      conversations: deps.conversations ?? db.conversations,
      blobs,
      config: config(change),
      nodeId: deps.nodeId ?? "node-a",
      logger,
      now: () => clock,
      random: () => 0.5,
    });
    dispatchers.push(made);
    return made;
  }

  function webhook(change: Partial<WorkspaceWebhook> = {}): WorkspaceWebhook {
    return {
      webhookId: "wh_1",
      name: "receiver",
      url: receiver.url,
      secret: SECRET,
      authType: "hmac",
      isDisabled: false,
      isAutoDisabled: false,
      retryEnabled: true,
      requestHeaders: { "X-Receiver-Token": "token-123" },
      events: [],
      createdAtUnix: Math.floor(clock / 1000),
      mostRecentFailureErrorCode: null,
      mostRecentFailureTimestamp: null,
      consecutiveFailures: 0,
      lastSuccessAtMs: null,
      ...change,
    };
  }

  function delivery(change: Partial<NewOutgoingDelivery> = {}): NewOutgoingDelivery {
    seq++;
    return {
      deliveryId: `dlv_${seq}`,
      webhookId: "wh_1",
      eventType: "post_call_transcription",
      conversationId: "c1",
      agentId: "agent_1",
      eventTimestamp: EVENT_TIMESTAMP,
      payload: null,
      excludeTranscript: false,
      maxAttempts: 3,
      createdAtMs: clock,
      ...change,
    };
  }

  /** The body GET /v1/convai/conversations/{id} serves for a conversation. */
  async function getBody(id: string): Promise<unknown> {
    const stored = await db.conversations.getConversation(id);
    if (!stored) throw new Error(`no conversation ${id}`);
    return JSON.parse(renderStoredDocument(stored.json, audioFlagsOf(stored.audio)));
  }

  /** Verifies a received request the way a receiver using the SDK does, and returns the event. */
  async function verified(request: Received | undefined): Promise<Record<string, unknown>> {
    if (!request) throw new Error("the receiver got nothing");
    const header = request.headers["elevenlabs-signature"];
    return (await sdk.webhooks.constructEvent(request.body, String(header), SECRET)) as Record<
      string,
      unknown
    >;
  }

  async function stored(deliveryId: string) {
    const found = await db.outgoingWebhooks.getDelivery(deliveryId);
    if (!found) throw new Error(`no delivery ${deliveryId}`);
    return found;
  }

  beforeEach(async () => {
    seq = 0;
    storage = createTestStorage(backend);
    db = await storage.open();
    blobs = new FsBlobStore(path.join(storage.dataDir, "blobs"));
    receiver = new Receiver();
    await receiver.listen();
    logger = new MemoryLogger();
    clock = Date.now();
    await db.outgoingWebhooks.insertWebhook(webhook());
    await db.conversations.putConversation(
      buildConversationRecord(buildConversation({ id: "c1", agentId: "agent_1" })),
    );
  });

  afterEach(async () => {
    for (const made of dispatchers.splice(0)) await made.stop();
    await receiver?.close();
    await db?.close();
    await storage?.cleanup();
  });

  it("sends a transcription as the GET body in the envelope, signed so the SDK accepts it", async () => {
    await db.outgoingWebhooks.enqueue([delivery()]);
    expect(await dispatcher().runOnce()).toBe(1);

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    const expected = {
      type: "post_call_transcription",
      event_timestamp: EVENT_TIMESTAMP,
      data: await getBody("c1"),
    };
    expect(await verified(request)).toEqual(expected);
    // Byte for byte: the stored document as GET serves it, inside the envelope.
    const served = renderStoredDocument(
      (await db.conversations.getConversation("c1"))?.json ?? "",
      audioFlagsOf(null),
    );
    expect(request?.body).toBe(
      `{"type":"post_call_transcription","event_timestamp":${EVENT_TIMESTAMP},"data":${served}}`,
    );
    expect(request?.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "openconvai",
      "openconvai-delivery-id": "dlv_1",
      "openconvai-delivery-attempt": "1",
      "x-receiver-token": "token-123",
    });
    expect(request?.headers["elevenlabs-signature"]).toMatch(
      new RegExp(`^t=${Math.floor(clock / 1000)},v0=[0-9a-f]{64}$`),
    );

    const { delivery: after, attempts } = await stored("dlv_1");
    expect(after).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 });
    expect(attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        statusCode: 200,
        error: null,
        responseHead: "ok",
        url: receiver.url,
      }),
    ]);
    expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
      consecutiveFailures: 0,
      lastSuccessAtMs: clock,
    });
    // Nothing logged holds the secret, the signature or the body.
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(String(request?.headers["elevenlabs-signature"]).slice(-64));
    expect(logged).not.toContain("token-123");
  });

  it("sends `transcript: []` when the transcript is left out, the rest as GET serves it", async () => {
    await db.outgoingWebhooks.enqueue([delivery({ excludeTranscript: true })]);
    await dispatcher().runOnce();
    const event = await verified(receiver.received[0]);
    const full = (await getBody("c1")) as Record<string, unknown>;
    expect((full.transcript as unknown[]).length).toBeGreaterThan(0);
    expect(event.data).toEqual({ ...full, transcript: [] });
    expect(Object.keys(event.data as object)).toEqual(Object.keys(full));
  });

  it("sends the OpenTelemetry trace as the data of post_call_transcription_otel", async () => {
    await db.outgoingWebhooks.enqueue([delivery({ eventType: "post_call_transcription_otel" })]);
    await dispatcher().runOnce();
    const event = await verified(receiver.received[0]);
    const doc = JSON.parse((await db.conversations.getConversation("c1"))?.json ?? "{}") as Record<
      string,
      unknown
    >;
    expect(event.type).toBe("post_call_transcription_otel");
    expect(event.data).toEqual(buildConversationTrace(doc));
    expect(event.data).toHaveProperty("resourceSpans");
  });

  it("sends a call initiation failure's stored payload as it is", async () => {
    const payload =
      '{"agent_id":"agent_1","conversation_id":null,"failure_reason":"capacity","metadata":{"type":"websocket","body":{"close_code":1013}}}';
    await db.outgoingWebhooks.enqueue([
      delivery({ eventType: "call_initiation_failure", conversationId: null, payload }),
    ]);
    await dispatcher().runOnce();
    expect(receiver.received[0]?.body).toBe(
      `{"type":"call_initiation_failure","event_timestamp":${EVENT_TIMESTAMP},"data":${payload}}`,
    );
    expect((await verified(receiver.received[0])).data).toEqual(JSON.parse(payload));
  });

  it("retries 5xx on the schedule, signing each attempt afresh, until it is delivered", async () => {
    receiver.answers.push(status(503), status(500));
    await db.outgoingWebhooks.enqueue([delivery()]);
    const sender = dispatcher();

    expect(await sender.runOnce()).toBe(1);
    expect((await stored("dlv_1")).delivery).toMatchObject({
      status: "pending",
      attempts: 1,
      nextAttemptAtMs: clock + 1000,
      lastStatusCode: 503,
    });
    // Not due yet.
    expect(await sender.runOnce()).toBe(0);
    clock += 1000;
    expect(await sender.runOnce()).toBe(1);
    expect((await stored("dlv_1")).delivery).toMatchObject({
      status: "pending",
      attempts: 2,
      lastStatusCode: 500,
    });
    clock += 1000;
    expect(await sender.runOnce()).toBe(1);

    const { delivery: after, attempts } = await stored("dlv_1");
    expect(after).toMatchObject({ status: "delivered", attempts: 3 });
    expect(attempts.map((a) => a.statusCode)).toEqual([503, 500, 200]);
    expect(receiver.received.map((r) => r.headers["openconvai-delivery-attempt"])).toEqual(["1", "2", "3"]);
    const stamps = receiver.received.map(
      (r) => /^t=(\d+),/.exec(String(r.headers["elevenlabs-signature"]))?.[1],
    );
    expect(new Set(stamps).size).toBe(3);
    // Every attempt verifies on its own.
    for (const request of receiver.received) await verified(request);
  });

  it("fails a delivery when the schedule runs out, and a 429's Retry-After pushes the next attempt out", async () => {
    receiver.answers.push(status(429, { "Retry-After": "3600" }), status(503), status(503));
    await db.outgoingWebhooks.enqueue([delivery({ maxAttempts: 10 })]);
    const sender = dispatcher();
    await sender.runOnce();
    expect((await stored("dlv_1")).delivery).toMatchObject({
      status: "pending",
      nextAttemptAtMs: clock + 3_600_000,
    });
    clock += 3_600_000;
    await sender.runOnce();
    clock += 1000;
    await sender.runOnce();
    // The schedule has three entries: after the third attempt there is no fourth.
    expect((await stored("dlv_1")).delivery).toMatchObject({
      status: "failed",
      attempts: 3,
      lastStatusCode: 503,
    });
    clock += 60_000;
    expect(await sender.runOnce()).toBe(0);
  });

  it("fails a delivery at once on a 400, and counts the failure against the webhook", async () => {
    receiver.answers.push((res) => {
      res.statusCode = 400;
      res.end('{"detail":"bad"}');
    });
    await db.outgoingWebhooks.enqueue([delivery()]);
    await dispatcher().runOnce();
    const { delivery: after, attempts } = await stored("dlv_1");
    expect(after).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 400 });
    expect(attempts[0]).toMatchObject({ statusCode: 400, responseHead: '{"detail":"bad"}' });
    expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
      consecutiveFailures: 1,
      mostRecentFailureErrorCode: 400,
      isAutoDisabled: false,
    });
  });

  it("streams an audio delivery, chunked and signed, with exactly its three keys", async () => {
    // Not a multiple of 3, over several blob reads.
    const audio = randomBytes(300_001);
    const blobKey = newAudioBlobKey("c1");
    await blobs.put(blobKey, audio);
    await db.conversations.setAudio("c1", { blobKey, contentType: "audio/mpeg", size: audio.length });
    await db.outgoingWebhooks.enqueue([delivery({ eventType: "post_call_audio" })]);
    await dispatcher().runOnce();

    const [request] = receiver.received;
    expect(request?.headers["transfer-encoding"]).toBe("chunked");
    expect(request?.headers["content-length"]).toBeUndefined();
    const event = await verified(request);
    expect(event.type).toBe("post_call_audio");
    expect(event.event_timestamp).toBe(EVENT_TIMESTAMP);
    const data = event.data as Record<string, string>;
    expect(Object.keys(data)).toEqual(["agent_id", "conversation_id", "full_audio"]);
    expect(data.agent_id).toBe("agent_1");
    expect(data.conversation_id).toBe("c1");
    expect(Buffer.from(data.full_audio ?? "", "base64").equals(audio)).toBe(true);
    expect((await stored("dlv_1")).delivery.status).toBe("delivered");
  });

  it("never sends the end of an audio body whose bytes changed after it was signed", async () => {
    const blobKey = newAudioBlobKey("c1");
    await blobs.put(blobKey, randomBytes(10_000));
    await db.conversations.setAudio("c1", { blobKey, contentType: "audio/mpeg", size: 10_000 });
    await db.outgoingWebhooks.enqueue([delivery({ eventType: "post_call_audio" })]);
    const built = await buildDeliveryBody((await stored("dlv_1")).delivery, {
      conversations: db.conversations,
      blobs,
    });
    if (built.status !== "ready" || built.body.kind !== "stream") throw new Error("expected a streamed body");
    const read = async (chunks: AsyncIterable<Buffer>, into: Buffer[]): Promise<void> => {
      for await (const chunk of chunks) into.push(chunk);
    };
    const signed: Buffer[] = [];
    await read(built.body.open(), signed);
    expect(Buffer.concat(signed).toString("utf8")).toMatch(/"}}$/);

    // Other bytes under the same key between the signing pass and the sending one.
    await blobs.put(blobKey, randomBytes(10_000));
    const sent: Buffer[] = [];
    await expect(read(built.body.open(), sent)).rejects.toBeInstanceOf(AudioChangedError);
    expect(Buffer.concat(sent).toString("utf8")).not.toMatch(/"}}$/);
  });

  it("waits for audio that is not stored yet without counting attempts, then gives up after 10 minutes", async () => {
    await db.outgoingWebhooks.enqueue([delivery({ eventType: "post_call_audio" })]);
    const sender = dispatcher();
    await sender.runOnce();
    expect(receiver.received).toHaveLength(0);
    expect((await stored("dlv_1")).delivery).toMatchObject({
      status: "pending",
      attempts: 0,
      nextAttemptAtMs: clock + 2000,
    });
    clock += 2000;
    await sender.runOnce();
    expect((await stored("dlv_1")).delivery).toMatchObject({ status: "pending", attempts: 0 });

    clock += 10 * 60_000;
    await sender.runOnce();
    const { delivery: after, attempts } = await stored("dlv_1");
    expect(after).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "the conversation has no audio",
    });
    expect(attempts[0]).toMatchObject({ statusCode: null, error: "the conversation has no audio" });
    expect(receiver.received).toHaveLength(0);
  });

  it("sends an audio delivery once its audio is stored", async () => {
    await db.outgoingWebhooks.enqueue([delivery({ eventType: "post_call_audio" })]);
    const sender = dispatcher();
    await sender.runOnce();
    const audio = randomBytes(1000);
    const blobKey = newAudioBlobKey("c1");
    await blobs.put(blobKey, audio);
    await db.conversations.setAudio("c1", { blobKey, contentType: "audio/mpeg", size: audio.length });
    clock += 2000;
    await sender.runOnce();
    const data = (await verified(receiver.received[0])).data as Record<string, string>;
    expect(Buffer.from(data.full_audio ?? "", "base64").equals(audio)).toBe(true);
  });

  it("fails a delivery whose conversation was deleted, without a request and without counting against the webhook", async () => {
    await db.outgoingWebhooks.enqueue([delivery()]);
    await db.conversations.deleteConversation("c1");
    await dispatcher().runOnce();
    expect(receiver.received).toHaveLength(0);
    const { delivery: after } = await stored("dlv_1");
    expect(after.status).toBe("failed");
    expect(after.lastError).toMatch(/conversation c1 no longer exists/);
    const webhook = await db.outgoingWebhooks.getWebhook(after.webhookId);
    expect(webhook?.consecutiveFailures).toBe(0);
    expect(webhook?.mostRecentFailureTimestamp).toBeNull();
  });

  it("runs at most concurrencyPerEndpoint attempts at once per webhook; the rest wait their turn", async () => {
    const ids = ["c2", "c3", "c4", "c5", "c6"];
    for (const id of ids) {
      await db.conversations.putConversation(buildConversationRecord(buildConversation({ id })));
    }
    await db.outgoingWebhooks.enqueue(ids.map((id) => delivery({ conversationId: id })));
    receiver.holding = true;
    const run = dispatcher({ concurrencyPerEndpoint: 2 }).runOnce();
    await waitFor(() => receiver.inFlight === 2, "two requests in flight");
    // Give a third one every chance to start.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.inFlight).toBe(2);
    receiver.holding = false;
    receiver.release();
    // A claim takes at most concurrencyPerEndpoint of one webhook's deliveries: the rest wait
    // in the outbox for the next claims.
    expect(await run).toBe(2);
    const sender = dispatcher({ concurrencyPerEndpoint: 2 });
    expect(await sender.runOnce()).toBe(2);
    expect(await sender.runOnce()).toBe(1);
    expect(await sender.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(5);
    expect(receiver.maxInFlight).toBe(2);
  });

  it("auto-disables a webhook after 10 consecutive failures; its other deliveries wait", async () => {
    const ids = Array.from({ length: 11 }, (_, i) => `cx${i}`);
    for (const id of ids) {
      await db.conversations.putConversation(buildConversationRecord(buildConversation({ id })));
    }
    await db.outgoingWebhooks.enqueue(ids.map((id) => delivery({ conversationId: id })));
    for (let i = 0; i < 11; i++) receiver.answers.push(status(400));
    // One at a time: the eleventh is claimed only after the tenth is recorded.
    const sender = dispatcher({ concurrencyPerEndpoint: 1 });
    for (let i = 0; i < 11; i++) await sender.runOnce();

    expect(receiver.received).toHaveLength(10);
    expect(await db.outgoingWebhooks.getWebhook("wh_1")).toMatchObject({
      isAutoDisabled: true,
      consecutiveFailures: 10,
    });
    const last = (await stored(`dlv_${seq}`)).delivery;
    expect(last).toMatchObject({ status: "pending", attempts: 0 });
    clock += 60_000;
    expect(await dispatcher().runOnce()).toBe(0);
  });

  it("keeps going when one delivery breaks unexpectedly, and tries that one again later", async () => {
    await db.conversations.putConversation(buildConversationRecord(buildConversation({ id: "c-broken" })));
    await db.outgoingWebhooks.enqueue([delivery({ conversationId: "c-broken" }), delivery()]);
    const real = db.conversations;
    // The real store, with reads of one conversation failing as a broken connection would.
    const faulty = Object.assign(Object.create(real) as ConversationStore, {
      getServedConversationBytes: (id: string) =>
        id === "c-broken"
          ? Promise.reject(new Error("connection reset"))
          : real.getServedConversationBytes(id),
    });
    expect(await dispatcher({}, { conversations: faulty }).runOnce()).toBe(2);
    expect((await stored("dlv_2")).delivery.status).toBe("delivered");
    expect((await stored("dlv_1")).delivery).toMatchObject({
      status: "pending",
      attempts: 0,
      nextAttemptAtMs: clock + 30_000,
    });
    expect(logger.lines.some((l) => l.level === "error" && JSON.stringify(l.obj).includes("dlv_1"))).toBe(
      true,
    );
  });

  it("polls once started, releases what this node held before, and stops cleanly", async () => {
    await db.outgoingWebhooks.enqueue([delivery()]);
    // A claim left behind by this node's previous run (it crashed mid-attempt).
    expect(await db.outgoingWebhooks.claimDue("node-a", clock, 10, 3_600_000, 10)).toHaveLength(1);
    const sender = dispatcher();
    await sender.start();
    await waitFor(async () => (await stored("dlv_1")).delivery.status === "delivered", "the first delivery");

    // A later write is picked up by a poll (or at once with notify).
    await db.conversations.putConversation(buildConversationRecord(buildConversation({ id: "c9" })));
    await db.outgoingWebhooks.enqueue([delivery({ conversationId: "c9" })]);
    sender.notify();
    await waitFor(async () => (await stored("dlv_2")).delivery.status === "delivered", "the second delivery");
    await sender.stop();

    // Stopped: nothing more is sent.
    await db.outgoingWebhooks.enqueue([delivery({ conversationId: "c9" })]);
    sender.notify();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await stored("dlv_3")).delivery).toMatchObject({ status: "pending", attempts: 0 });
    expect(receiver.received).toHaveLength(2);
  });

  it("waits for attempts in flight when it stops", async () => {
    await db.outgoingWebhooks.enqueue([delivery()]);
    receiver.holding = true;
    const sender = dispatcher();
    await sender.start();
    await waitFor(() => receiver.inFlight === 1, "the request in flight");
    const stopping = sender.stop();
    let stopped = false;
    void stopping.then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    receiver.release();
    await stopping;
    expect((await stored("dlv_1")).delivery.status).toBe("delivered");
  });
});
