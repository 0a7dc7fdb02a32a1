/**
 * The semantic ANN index in the server, on real SQLite and PostgreSQL: semantic answers say which
 * index they came from (`x-openconvai-semantic-index`); a restarted server loads its persisted
 * index and embeds nothing again; `OPENCONVAI_SEMANTIC_INDEX=exact` and
 * `OPENCONVAI_EMBEDDINGS_INDEXER=off` serve from the stored embeddings without embedding any.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import { type RunningServer, startServer } from "../../src/main.js";
import { BASE_START_TIME, buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { type FakeOpenAi, startFakeOpenAi } from "../support/fake-openai.js";

const MODEL = "toy-embed-1";
const docs = Array.from({ length: 12 }, (_, i) =>
  buildConversation({
    id: `conv_${i}`,
    agentId: "agent_store",
    startTime: BASE_START_TIME + i,
    messages: [
      `I want a refund for order ${i}.`,
      "Sure, the refund is on its way.",
      `Parcel ${i} arrived broken.`,
    ],
  }),
);

describe.each(BACKENDS)("the semantic index in the server on %s", (backend) => {
  let fake: FakeOpenAi;
  let storage: TestStorage;
  const apiKey = `oc_test_${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    storage = createTestStorage(backend);
  });
  afterAll(async () => {
    await storage?.cleanup();
    await fake?.close();
  });

  function start(env: Record<string, string> = {}): Promise<RunningServer> {
    const config = resolveConfig(
      { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
      {
        OPENCONVAI_BOOTSTRAP_KEY: apiKey,
        OPENCONVAI_EMBEDDINGS_URL: `${fake.baseUrl}/embeddings`,
        OPENCONVAI_EMBEDDINGS_MODEL: MODEL,
        OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS: "50",
        ...env,
      },
    );
    return startServer(config, pino({ level: "silent" }));
  }

  async function smartSearch(
    server: RunningServer,
    text: string,
  ): Promise<{ index: string | null; ids: string[] }> {
    const response = await fetch(
      `${server.url}/v1/convai/conversations/messages/smart-search?text_query=${encodeURIComponent(text)}`,
      { headers: { "xi-api-key": apiKey } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("x-openconvai-search-mode")).toBe("semantic");
    const body = (await response.json()) as { results: { conversation_id: string }[] };
    return {
      index: response.headers.get("x-openconvai-semantic-index"),
      ids: body.results.map((r) => r.conversation_id),
    };
  }

  async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The embeddings requests made since `from` that embedded something other than a search's query. */
  function documentEmbeddings(from: number): unknown[] {
    return fake.requests
      .slice(from)
      .filter((r) => r.path === "/v1/embeddings")
      .filter((r) => {
        const input = r.body.input as string[];
        return !(input.length === 1 && input[0]?.startsWith("query "));
      });
  }

  it("answers from the ANN once built, then loads it on restart and embeds nothing again", async () => {
    const first = await start();
    try {
      for (const doc of docs)
        await first.services.db.conversations.putConversation(buildConversationRecord(doc));
      await waitFor(
        async () => (await first.services.db.messageSearch.countEmbeddedConversations(MODEL)) === docs.length,
        "the conversations to be embedded",
      );
      await waitFor(async () => (await smartSearch(first, "query refund")).index === "ann", "the ANN index");
      expect(first.services.semanticIndex?.stats.origin).toBe("built");
      const answer = await smartSearch(first, "query parcel broken");
      expect(answer.index).toBe("ann");
      expect(answer.ids.length).toBeGreaterThan(0);
    } finally {
      await first.stop();
    }

    const before = fake.requests.length;
    const second = await start();
    try {
      await waitFor(
        async () => (await smartSearch(second, "query refund")).index === "ann",
        "the loaded index",
      );
      expect(second.services.semanticIndex?.stats.origin).toBe("loaded");
      expect(second.services.semanticIndex?.stats.added).toBe(0);
      // Several indexer rounds (every 50 ms) go by: nothing is pending, nothing is embedded.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await smartSearch(second, "query parcel broken")).ids.length).toBeGreaterThan(0);
      expect(documentEmbeddings(before)).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it("serves exactly and embeds nothing with OPENCONVAI_SEMANTIC_INDEX=exact and the indexer off", async () => {
    const server = await start({ OPENCONVAI_SEMANTIC_INDEX: "exact", OPENCONVAI_EMBEDDINGS_INDEXER: "off" });
    try {
      expect(server.services.semanticIndex).toBeUndefined();
      expect(server.services.indexer).toBeUndefined();
      const before = fake.requests.length;
      const extra = buildConversation({ id: "conv_extra", startTime: BASE_START_TIME + 100 });
      await server.services.db.conversations.putConversation(buildConversationRecord(extra));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const answer = await smartSearch(server, "query refund");
      expect(answer.index).toBe("exact");
      expect(answer.ids.length).toBeGreaterThan(0);
      expect(documentEmbeddings(before)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
