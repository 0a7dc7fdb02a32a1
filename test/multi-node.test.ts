/**
 * Several nodes as one server: two `openconvai serve` processes on one PostgreSQL schema and one
 * S3 bucket. What one writes the other serves, a live session on one shows on the other, a signed
 * URL from one opens a session on the other, and background work (embeddings, webhook deliveries,
 * crash recovery, retention) is done once across them. PostgreSQL only: SQLite serves one process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECOVERED_BY_ANOTHER_NODE_REASON } from "../src/runtime/session-recovery.js";
import { buildConversation } from "./fixtures/conversations.js";
import { eventually } from "./runtime/eventually.js";
import { startTextSession, type TextSession } from "./runtime/text-session.js";
import { createTestStorage, POSTGRES_TEST_URL, type TestStorage } from "./support/backends.js";
import { type FakeOpenAi, startFakeOpenAi } from "./support/fake-openai.js";
import { queryTestDatabase } from "./support/postgres-schema.js";
import { type S3TestServer, startS3Server } from "./support/s3-server.js";
import { type ServerProcess, spawnServer } from "./support/spawn-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const API_KEY = "oc_test_multi_node_key";
const EMBEDDING_MODEL = "multi-node-embeddings";

/** Short intervals, so what runs in the background shows within a second or two. */
const FAST_ENV = {
  OPENCONVAI_EMBEDDINGS_MODEL: EMBEDDING_MODEL,
  OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS: "100",
  OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
  OPENCONVAI_WEBHOOK_POLL_MS: "50",
  OPENCONVAI_WEBHOOK_RELAY: "true",
  OPENCONVAI_WEBHOOK_RETRY_JITTER: "0",
  OPENCONVAI_SESSION_HEARTBEAT_MS: "200",
  OPENCONVAI_SESSION_HEARTBEAT_TIMEOUT_MS: "1500",
  OPENCONVAI_RETENTION_INTERVAL_SECS: "1",
};

/** A node: its process, its URL and an SDK client on it. */
interface Node {
  process: ServerProcess;
  url: string;
  client: ElevenLabsClient;
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  /** The JSON log lines it wrote so far (from when it started serving). */
  logs(): Record<string, unknown>[];
}

/** 2,000 bytes of "audio" that differ from position to position. */
const AUDIO = Uint8Array.from({ length: 2000 }, (_, i) => (i * 53 + 7) % 256);

describe.skipIf(!POSTGRES_TEST_URL)("two nodes on one PostgreSQL and one bucket", () => {
  const cleanups: (() => Promise<void>)[] = [];
  let storage: TestStorage;
  let s3: S3TestServer;
  let embeddings: FakeOpenAi;
  let receiver: WebhookReceiver;
  let webhookSecret: string;
  let a: Node;
  let b: Node;
  const sessions: TextSession[] = [];

  async function startNode(nodeId: string, dataDir: string): Promise<Node> {
    const process = await spawnServer(
      { ...storage, dataDir },
      {
        apiKey: API_KEY,
        env: {
          ...s3.env,
          ...FAST_ENV,
          OPENCONVAI_EMBEDDINGS_URL: embeddings.baseUrl,
          OPENCONVAI_NODE_ID: nodeId,
        },
        onStarted: (cleanup) => cleanups.push(cleanup),
      },
    );
    let written = "";
    process.child.stdout.on("data", (chunk: Buffer) => {
      written += chunk.toString();
    });
    return {
      process,
      url: process.url,
      logs: () =>
        written
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      client: new ElevenLabsClient({ apiKey: API_KEY, baseUrl: process.url, maxRetries: 0 }),
      fetch: (pathname, init = {}) =>
        fetch(`${process.url}${pathname}`, {
          ...init,
          headers: { "xi-api-key": API_KEY, ...(init.headers as Record<string, string>) },
        }),
    };
  }

  beforeAll(async () => {
    storage = createTestStorage("postgres");
    cleanups.push(() => storage.cleanup());
    [s3, embeddings, receiver] = await Promise.all([
      startS3Server(),
      startFakeOpenAi(),
      startWebhookReceiver(),
    ]);
    cleanups.push(
      () => s3.close(),
      () => embeddings.close(),
      () => receiver.close(),
    );
    // Each node has a data dir of its own (its temp files): only the database and the bucket are shared.
    const otherDir = mkdtempSync(path.join(tmpdir(), "openconvai-node-b-"));
    cleanups.push(async () => rmSync(otherDir, { recursive: true, force: true }));
    a = await startNode("node-a", storage.dataDir);
    b = await startNode("node-b", otherDir);
    // The workspace's post-call webhook, configured on node A, used by both.
    const created = await a.client.webhooks.create({
      settings: { authType: "hmac", name: "multi-node receiver", webhookUrl: receiver.url },
    });
    webhookSecret = created.webhookSecret ?? "";
    await a.client.conversationalAi.settings.update({
      webhooks: { postCallWebhookId: created.webhookId, events: ["transcript"] as never },
    });
  }, 120_000);

  afterAll(async () => {
    for (const session of sessions) await session.conversation.endSession().catch(() => undefined);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function ingest(node: Node, doc: Record<string, unknown>): Promise<void> {
    const response = await node.fetch(`/ingest/v1/conversations/${String(doc.conversation_id)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(doc),
    });
    expect(response.status).toBe(201);
  }

  async function openSession(node: Node, agentId: string, signedUrl?: string): Promise<TextSession> {
    const session = await startTextSession(node.url, agentId, signedUrl ? { signedUrl } : {});
    sessions.push(session);
    return session;
  }

  it("serves on B a conversation and its audio written on A", async () => {
    await ingest(a, buildConversation({ id: "conv_written_on_a", messages: ["written on node a", "noted"] }));
    const audio = await a.fetch("/ingest/v1/conversations/conv_written_on_a/audio", {
      method: "PUT",
      headers: { "content-type": "audio/mpeg" },
      body: AUDIO,
    });
    expect(audio.status).toBe(200);

    const onB = await b.client.conversationalAi.conversations.get("conv_written_on_a");
    expect(onB.transcript.map((t) => t.message)).toEqual(["written on node a", "noted"]);
    expect(onB.hasAudio).toBe(true);
    const bytes = await b.fetch("/v1/convai/conversations/conv_written_on_a/audio");
    expect(bytes.status).toBe(200);
    expect(Buffer.from(await bytes.arrayBuffer()).equals(Buffer.from(AUDIO))).toBe(true);
    // The bytes are in the bucket, not on either node's disk.
    expect((await s3.listKeys()).length).toBeGreaterThan(0);
  });

  it("lists on B a live session running on A, and serves its transcript on B once it ended", async () => {
    const { agentId } = await a.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello from node a" } },
    });
    const session = await openSession(a, agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    session.conversation.sendUserMessage("asked on node a");
    await session.waitFor("message", (m) => m.message === "You said: asked on node a");
    const id = session.conversation.getId();

    const listed = await b.client.conversationalAi.conversations.list({ agentId });
    expect(listed.conversations.map((c) => [c.conversationId, c.status])).toEqual([[id, "in-progress"]]);

    await session.conversation.endSession();
    const ended = await eventually(
      () => b.client.conversationalAi.conversations.get(id),
      (c) => c.status === "done",
    );
    expect(ended.status).toBe("done");
    expect(ended.transcript.map((t) => [t.role, t.message])).toEqual([
      ["agent", "Hello from node a"],
      ["user", "asked on node a"],
      ["agent", "You said: asked on node a"],
    ]);
  });

  it("opens a session on B with a signed URL got from A", async () => {
    const { agentId } = await a.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Signed on a, served by b" } },
      platformSettings: { auth: { enableAuth: true } },
    });
    const { signedUrl } = await a.client.conversationalAi.conversations.getSignedUrl({ agentId });
    const onB = new URL(signedUrl);
    expect(onB.host).toBe(new URL(a.url).host);
    onB.host = new URL(b.url).host;
    const session = await openSession(b, agentId, onB.toString());
    const first = await session.waitFor("message", (m) => m.role === "agent");
    expect(first.message).toBe("Signed on a, served by b");
    await session.conversation.endSession();
  });

  it("embeds each conversation once across both nodes", async () => {
    const count = 24;
    const texts = Array.from({ length: count }, (_, i) => `embedded once across nodes number ${i}`);
    await Promise.all(
      texts.map((text, i) =>
        ingest(i % 2 === 0 ? a : b, buildConversation({ id: `conv_embed_${i}`, messages: [text] })),
      ),
    );
    const embeddedTexts = () =>
      embeddings.requests
        .filter((r) => r.path === "/v1/embeddings")
        .flatMap((r) => r.body.input as string[])
        .filter((input) => input.includes("embedded once across nodes"));
    await eventually(
      async () => new Set(embeddedTexts()).size,
      (seen) => seen === count,
      20_000,
    );
    const rows = async () =>
      (
        await queryTestDatabase(
          storage.databaseUrl as string,
          "SELECT count(DISTINCT conversation_id)::int AS n FROM message_embeddings WHERE conversation_id LIKE 'conv_embed_%'",
        )
      )[0]?.n;
    expect(await eventually(rows, (n) => n === count)).toBe(count);
    // A few more rounds of both indexers: nothing is embedded again.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const perText = new Map<string, number>();
    for (const text of embeddedTexts()) perText.set(text, (perText.get(text) ?? 0) + 1);
    expect([...perText.values()].every((n) => n === 1)).toBe(true);
    expect(perText.size).toBe(count);
  }, 60_000);

  it("sends each post-call webhook once across both nodes", async () => {
    const count = 20;
    const ids = Array.from({ length: count }, (_, i) => `conv_webhook_${i}`);
    // Half through A, half through B: each node queues deliveries, both senders poll the outbox.
    await Promise.all(
      ids.map((id, i) =>
        ingest(i % 2 === 0 ? a : b, buildConversation({ id, status: "done", messages: ["sent once"] })),
      ),
    );
    const delivered = async () =>
      (await receiver.verified(webhookSecret))
        .map((e) => (e.event.data as { conversation_id?: string }).conversation_id ?? "")
        .filter((id) => id.startsWith("conv_webhook_"));
    await eventually(delivered, (seen) => new Set(seen).size === count, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seen = await delivered();
    expect(seen.sort()).toEqual([...ids].sort());
  }, 60_000);

  it("deletes expired conversations once across both nodes (retention)", async () => {
    const { agentId } = await a.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Kept a day" } },
      platformSettings: { privacy: { retentionDays: 1, applyToExistingConversations: true } },
    });
    const count = 12;
    const ids = Array.from({ length: count }, (_, i) => `conv_expired_${i}`);
    const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
    await Promise.all(
      ids.map((id, i) =>
        ingest(i % 2 === 0 ? a : b, buildConversation({ id, agentId, startTime: twoDaysAgo })),
      ),
    );
    const left = async () =>
      (
        await queryTestDatabase(
          storage.databaseUrl as string,
          "SELECT count(*)::int AS n FROM conversations WHERE conversation_id LIKE 'conv_expired_%'",
        )
      )[0]?.n;
    expect(await eventually(left, (n) => n === 0, 15_000)).toBe(0);
    // Each deletion was made by one round on one node: the rounds' counts add up to the conversations
    // (the log lines arrive within the logger's one-second flush).
    const rounds = () => [...a.logs(), ...b.logs()].filter((line) => line.msg === "retention: round done");
    const deleted = () => rounds().reduce((sum, line) => sum + Number(line.deleted), 0);
    expect(
      await eventually(
        async () => deleted(),
        (n) => n >= count,
        10_000,
      ),
    ).toBe(count);
    expect(rounds().reduce((sum, line) => sum + Number(line.failed), 0)).toBe(0);
  }, 60_000);

  it("recovers on B, once, a session of A after A is killed", async () => {
    const { agentId } = await a.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "Hello before the crash" } },
    });
    const session = await openSession(a, agentId);
    await session.waitFor("message", (m) => m.role === "agent");
    session.conversation.sendUserMessage("still there?");
    await session.waitFor("message", (m) => m.message === "You said: still there?");
    const id = session.conversation.getId();
    expect((await b.client.conversationalAi.conversations.get(id)).status).toBe("in-progress");
    const registered = () =>
      queryTestDatabase(
        storage.databaseUrl as string,
        "SELECT node_id FROM live_sessions WHERE conversation_id = $1",
        [id],
      );
    expect(await registered()).toEqual([{ node_id: "node-a" }]);

    a.process.child.kill("SIGKILL");
    await a.process.exited;
    const recovered = await eventually(
      () => b.client.conversationalAi.conversations.get(id),
      (c) => c.status === "failed",
      15_000,
    );
    expect(recovered.status).toBe("failed");
    expect(recovered.metadata.terminationReason).toBe(RECOVERED_BY_ANOTHER_NODE_REASON);
    expect(recovered.transcript.map((t) => [t.role, t.message])).toEqual([
      ["agent", "Hello before the crash"],
      ["user", "still there?"],
      ["agent", "You said: still there?"],
    ]);
    expect(await registered()).toEqual([]);
    // Its post-call webhook went out once, with the recovered state.
    const forIt = async () =>
      (await receiver.verified(webhookSecret)).filter(
        (e) => (e.event.data as { conversation_id?: string }).conversation_id === id,
      );
    await eventually(forIt, (events) => events.length >= 1, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = await forIt();
    expect(events).toHaveLength(1);
    expect((events[0]?.event.data as { status?: string } | undefined)?.status).toBe("failed");
  }, 60_000);
});
