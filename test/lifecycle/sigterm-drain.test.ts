/**
 * SIGTERM on a real `openconvai serve` process with a live text session (the official client):
 * the node turns not-ready and refuses new requests (503, `Connection: close`) and new sessions
 * (1013), the running session still gets answers during the grace period, then is closed with
 * 1001; its conversation is stored with its transcript and the termination reason, the post-call
 * webhook its end queued reaches a local receiver before the process exits, and the exit code is 0.
 */

import net from "node:net";
import { SessionConnectionError } from "@elevenlabs/client";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { afterEach, describe, expect, it } from "vitest";
import { CLOSE_TRY_AGAIN_LATER, SHUTTING_DOWN_REASON } from "../../src/api/runtime/conversation-socket.js";
import { SERVER_STOPPED_REASON } from "../../src/runtime/conversation-session.js";
import { eventually } from "../runtime/eventually.js";
import { startTextSession } from "../runtime/text-session.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { spawnServer } from "../support/spawn-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

type Json = Record<string, unknown>;

/** Long enough to talk during it, short enough for CI. */
const GRACE_SECS = 3;

describe.each(BACKENDS)("SIGTERM with a live session on %s", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("drains: refuses new work, lets the session talk, ends it 1001, records it, sends its webhook, exits 0", async () => {
    const storage: TestStorage = createTestStorage(backend);
    cleanups.push(() => storage.cleanup());
    const receiver: WebhookReceiver = await startWebhookReceiver();
    cleanups.push(() => receiver.close());
    const apiKey = `oc_test_${Math.random().toString(36).slice(2)}`;
    const server = await spawnServer(storage, {
      apiKey,
      env: {
        OPENCONVAI_SHUTDOWN_GRACE_SECS: String(GRACE_SECS),
        OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
        OPENCONVAI_WEBHOOK_TIMEOUT_SECS: "2",
      },
      onStarted: (cleanup) => cleanups.push(cleanup),
    });
    const exitCode = new Promise<number | null>((resolve) =>
      server.child.once("exit", (code) => resolve(code)),
    );
    const client = new ElevenLabsClient({ apiKey, baseUrl: server.url, maxRetries: 0 });
    const webhook = await client.webhooks.create({
      settings: { authType: "hmac", name: "receiver", webhookUrl: receiver.url },
    });
    await client.conversationalAi.settings.update({
      webhooks: { postCallWebhookId: webhook.webhookId, events: ["transcript"] },
    });
    const { agentId } = await client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello." } },
    });

    const session = await startTextSession(server.url, agentId);
    const { conversationId } = await session.waitFor("connect");
    session.conversation.sendUserMessage("before the stop");
    await session.waitFor("message", (m) => m.role === "agent" && m.message === "You said: before the stop");

    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    // The signal is handled asynchronously: readiness turns 503 once the drain began.
    const readiness = await eventually(
      () =>
        fetch(`${server.url}/readyz`).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Json,
        })),
      (r) => r.status === 503,
      5_000,
    );
    expect(readiness.status).toBe(503);
    expect((readiness.body.detail as Json).status).toBe("shutting_down");

    // A new request: 503 in the envelope, and the connection is not kept.
    const refused = await fetch(`${server.url}/v1/convai/conversations`, {
      headers: { "xi-api-key": apiKey },
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("connection")).toBe("close");
    expect(((await refused.json()) as Json).detail).toMatchObject({ status: "shutting_down" });

    // A new session: the official client's startSession rejects with the 1013 close.
    const newSession = await startTextSession(server.url, agentId).then(
      async (started) => {
        await started.conversation.endSession();
        throw new Error("a session started during the drain");
      },
      (error: unknown) => error,
    );
    expect(newSession).toBeInstanceOf(SessionConnectionError);
    expect((newSession as SessionConnectionError).closeCode).toBe(CLOSE_TRY_AGAIN_LATER);
    expect((newSession as SessionConnectionError).closeReason).toBe(SHUTTING_DOWN_REASON);

    // The running session is still served during the grace period.
    session.conversation.sendUserMessage("during the drain");
    await session.waitFor("message", (m) => m.role === "agent" && m.message === "You said: during the drain");
    expect(Date.now() - signalledAt).toBeLessThan(GRACE_SECS * 1000);

    // After the grace: closed 1001.
    const disconnect = await session.waitFor("disconnect", undefined, GRACE_SECS * 1000 + 5_000);
    expect(disconnect.closeCode).toBe(1001);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(GRACE_SECS * 1000 - 100);

    expect(await exitCode).toBe(0);
    const exitedAt = Date.now();

    // Recorded: failed, with why, and the whole transcript.
    const db = await storage.open();
    try {
      const row = await db.conversations.getConversation(conversationId);
      expect(row).toBeDefined();
      const stored = JSON.parse(row?.json ?? "{}") as Json;
      expect(stored.status).toBe("failed");
      expect((stored.metadata as Json).termination_reason).toBe(SERVER_STOPPED_REASON);
      const said = (stored.transcript as Json[]).map((turn) => `${turn.role}: ${turn.message}`);
      expect(said).toEqual([
        "agent: Hello.",
        "user: before the stop",
        "agent: You said: before the stop",
        "user: during the drain",
        "agent: You said: during the drain",
      ]);
    } finally {
      await db.close();
    }

    // The post-call webhook the end queued went out before the process exited.
    const delivered = await receiver.verified(webhook.webhookSecret ?? "");
    const transcription = delivered.find(
      (d) =>
        d.event.type === "post_call_transcription" &&
        (d.event.data as Json).conversation_id === conversationId,
    );
    if (!transcription) throw new Error("no post_call_transcription of the conversation arrived");
    expect(transcription.request.atMs).toBeLessThanOrEqual(exitedAt);
    expect((transcription.event.data as Json).status).toBe("failed");
  });
});

describe("a second signal during the grace period", () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("ends the grace at once: the session is closed 1001 long before the grace would end, exit 0", async () => {
    const storage = createTestStorage("sqlite");
    cleanups.push(() => storage.cleanup());
    const apiKey = `oc_test_${Math.random().toString(36).slice(2)}`;
    const server = await spawnServer(storage, {
      apiKey,
      env: { OPENCONVAI_SHUTDOWN_GRACE_SECS: "60" },
      onStarted: (cleanup) => cleanups.push(cleanup),
    });
    const exitCode = new Promise<number | null>((resolve) =>
      server.child.once("exit", (code) => resolve(code)),
    );
    const client = new ElevenLabsClient({ apiKey, baseUrl: server.url, maxRetries: 0 });
    const { agentId } = await client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello." } },
    });
    const session = await startTextSession(server.url, agentId);
    await session.waitFor("connect");

    server.child.kill("SIGTERM");
    await eventually(
      () => fetch(`${server.url}/readyz`).then((r) => r.status),
      (status) => status === 503,
      5_000,
    );
    const secondAt = Date.now();
    server.child.kill("SIGINT");
    const disconnect = await session.waitFor("disconnect", undefined, 10_000);
    expect(disconnect.closeCode).toBe(1001);
    expect(Date.now() - secondAt).toBeLessThan(10_000);
    expect(await exitCode).toBe(0);
  });
});

describe("a signal once the stop has begun", () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("exits 1 at once while the stop waits for a request whose body never finishes", async () => {
    const storage = createTestStorage("sqlite");
    cleanups.push(() => storage.cleanup());
    const apiKey = `oc_test_${Math.random().toString(36).slice(2)}`;
    const server = await spawnServer(storage, {
      apiKey,
      env: { OPENCONVAI_SHUTDOWN_GRACE_SECS: "0" },
      onStarted: (cleanup) => cleanups.push(cleanup),
    });
    const exit = new Promise<{ code: number | null; atMs: number }>((resolve) =>
      server.child.once("exit", (code) => resolve({ code, atMs: Date.now() })),
    );
    // A slow client: the request's headers are in, its body never completes, so the stop's close
    // of the HTTP server waits for it (for the request timeout, 120 s).
    const { hostname, port } = new URL(server.url);
    const socket = net.connect(Number(port), hostname);
    cleanups.push(async () => void socket.destroy());
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(
      "POST /v1/convai/agents/create HTTP/1.1\r\n" +
        `Host: ${hostname}:${port}\r\nxi-api-key: ${apiKey}\r\n` +
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    server.child.kill("SIGTERM");
    // Grace 0 and no sessions: the stop begins at once, and stalls on the request.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(server.child.exitCode).toBeNull();
    const secondAt = Date.now();
    server.child.kill("SIGTERM");
    const { code, atMs } = await exit;
    expect(code).toBe(1);
    expect(atMs - secondAt).toBeLessThan(3_000);
  });
});
