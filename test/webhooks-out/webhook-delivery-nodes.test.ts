import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { type RunningServer, startServer } from "../../src/main.js";
import { buildConversation } from "../fixtures/conversations.js";
import { eventually } from "../runtime/eventually.js";
import { BACKENDS, createTestStorage, POSTGRES_TEST_URL, type TestStorage } from "../support/backends.js";
import { type ServerProcess, spawnServer as spawnServerProcess } from "../support/spawn-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const API_KEY = "oc_test_webhook_nodes_0123456789abcdef";
const WEBHOOK_ENV = {
  OPENCONVAI_WEBHOOK_ALLOW_PRIVATE: "true",
  OPENCONVAI_WEBHOOK_RETRY_SCHEDULE: "0,200ms,200ms,200ms,200ms",
  OPENCONVAI_WEBHOOK_RETRY_JITTER: "0",
  OPENCONVAI_WEBHOOK_POLL_MS: "50",
  OPENCONVAI_WEBHOOK_TIMEOUT_SECS: "60",
  OPENCONVAI_WEBHOOK_RELAY: "true",
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function useStorage(backend: "sqlite" | "postgres"): TestStorage {
  const storage = createTestStorage(backend);
  cleanups.push(() => storage.cleanup());
  return storage;
}

async function useReceiver(): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver();
  cleanups.push(() => receiver.close());
  return receiver;
}

/** Points the workspace's post-call webhook at the receiver; returns the secret. */
async function configure(client: ElevenLabsClient, receiver: WebhookReceiver): Promise<string> {
  const created = await client.webhooks.create({
    settings: { authType: "hmac", name: "receiver", webhookUrl: receiver.url },
  });
  await client.conversationalAi.settings.update({
    webhooks: { postCallWebhookId: created.webhookId, events: ["transcript"] },
  });
  return created.webhookSecret ?? "";
}

/** Ingests finished conversations (relay mode queues their transcription webhooks). */
async function ingest(url: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    const response = await fetch(`${url}/ingest/v1/conversations/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json", "xi-api-key": API_KEY },
      body: JSON.stringify(buildConversation({ id, status: "done", messages: ["hi", "hello"] })),
    });
    expect(response.status).toBe(201);
  }
}

/** `openconvai serve` on the storage as a real process, with the webhook settings; killed after the test. */
function spawnServer(storage: TestStorage): Promise<ServerProcess> {
  return spawnServerProcess(storage, {
    apiKey: API_KEY,
    env: { ...WEBHOOK_ENV, OPENCONVAI_NODE_ID: "node-killed" },
    onStarted: (cleanup) => cleanups.push(cleanup),
  });
}

describe.each(BACKENDS)("a server killed with SIGKILL while deliveries are due (%s)", (backend) => {
  it("sends every delivery after its restart", async () => {
    const storage = useStorage(backend);
    const receiver = await useReceiver();
    // The first attempts never get an answer: they are in flight when the server is killed.
    receiver.fallback = { hang: true };
    const first = await spawnServer(storage);
    const client = new ElevenLabsClient({ apiKey: API_KEY, baseUrl: first.url, maxRetries: 0 });
    const secret = await configure(client, receiver);
    const ids = ["conv_kill_1", "conv_kill_2", "conv_kill_3", "conv_kill_4", "conv_kill_5", "conv_kill_6"];
    await ingest(first.url, ids);
    // Four in flight (the per-endpoint cap), two waiting.
    await eventually(
      async () => receiver.requests.length,
      (n) => n >= 4,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    expect(first.child.signalCode).toBe("SIGKILL");

    receiver.fallback = { status: 200 };
    const second = await spawnServer(storage);
    expect(second.url).toMatch(/^http/);
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) =>
        new Set(events.map((e) => (e.event.data as { conversation_id: string }).conversation_id)).size >= 6,
      15_000,
    );
    const delivered = new Set(
      arrived.map((e) => (e.event.data as { conversation_id: string }).conversation_id),
    );
    expect([...delivered].sort()).toEqual(ids);
  }, 60_000);
});

describe.skipIf(!POSTGRES_TEST_URL)("two nodes on one PostgreSQL", () => {
  it("send each delivery once", async () => {
    const storage = useStorage("postgres");
    const receiver = await useReceiver();
    const nodes: RunningServer[] = [];
    for (const nodeId of ["node-a", "node-b"]) {
      const config = resolveConfig(
        { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
        { ...WEBHOOK_ENV, OPENCONVAI_BOOTSTRAP_KEY: API_KEY, OPENCONVAI_NODE_ID: nodeId },
      );
      const node = await startServer(config, pino({ level: "silent" }));
      nodes.push(node);
      cleanups.push(() => node.stop());
    }
    const [a] = nodes as [RunningServer, RunningServer];
    const client = new ElevenLabsClient({ apiKey: API_KEY, baseUrl: a.url, maxRetries: 0 });
    const secret = await configure(client, receiver);
    const ids = Array.from({ length: 40 }, (_, i) => `conv_nodes_${String(i).padStart(2, "0")}`);
    await ingest(a.url, ids);
    const arrived = await eventually(
      () => receiver.verified(secret),
      (events) => events.length >= 40,
      20_000,
    );
    // Let any duplicate show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toHaveLength(40);
    const perDelivery = new Map<string, number>();
    for (const request of receiver.requests) {
      const id = String(request.headers["openconvai-delivery-id"]);
      perDelivery.set(id, (perDelivery.get(id) ?? 0) + 1);
    }
    expect(perDelivery.size).toBe(40);
    expect([...perDelivery.values()].every((n) => n === 1)).toBe(true);
    expect(arrived.map((e) => (e.event.data as { conversation_id: string }).conversation_id).sort()).toEqual(
      ids,
    );
  }, 60_000);
});
