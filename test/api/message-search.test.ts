import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_START_TIME, buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { type FakeOpenAi, startFakeOpenAi } from "../support/fake-openai.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const docs = [
  buildConversation({
    id: "conv_refund_1",
    agentId: "agent_store",
    agentName: "Store",
    startTime: BASE_START_TIME + 300,
    messages: [
      "Hi, I would like a refund for my order.",
      "Sure, I can help with the refund. What is the order number?",
      "It is A-17. The parcel arrived broken.",
      "I have issued the refund for order A-17.",
    ],
    callSuccessful: "success",
  }),
  buildConversation({
    id: "conv_refund_2",
    agentId: "agent_store",
    agentName: "Store",
    startTime: BASE_START_TIME + 200,
    messages: [
      "Where is my package?",
      "Your package is on its way.",
      "Can I get a refund if it is late?",
      "Yes.",
    ],
    callSuccessful: "failure",
  }),
  buildConversation({
    id: "conv_refunded_3",
    agentId: "agent_billing",
    agentName: "Billing",
    branchId: "branch_b",
    startTime: BASE_START_TIME + 100,
    messages: ["My card was charged twice.", "The duplicate charge has been refunded."],
    callSuccessful: "success",
  }),
  buildConversation({
    id: "conv_other_4",
    agentId: "agent_store",
    startTime: BASE_START_TIME + 50,
    messages: ["What are your opening hours?", "We open at nine."],
  }),
];

type Page = ElevenLabs.MessagesSearchResponse;

function ids(page: Page): string[] {
  return page.results.map((r) => `${r.conversationId}#${r.transcriptIndex}`);
}

describe.each(BACKENDS)("message search on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, docs);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("GET /v1/convai/conversations/messages/text-search", () => {
    it("ranks matching messages, highlights the hits and says it ran a text search", async () => {
      const { data, rawResponse } = await sdk.client.conversationalAi.conversations.messages
        .textSearch({ textQuery: "refund order" })
        .withRawResponse();
      expect(rawResponse.headers.get("x-openconvai-search-mode")).toBe("text");
      const body = sdk.lastBody() as Record<string, unknown>;
      expectWireModel("MessagesSearchResponse", body);
      expect(Object.keys(body).sort()).toEqual(["has_more", "meta", "next_cursor", "results"]);
      // Only conversations that contain every word are candidates; messages with either word are hits.
      expect(new Set(data.results.map((r) => r.conversationId))).toEqual(new Set(["conv_refund_1"]));
      const first = data.results[0];
      expect(first?.chunkText).toBe("Hi, I would like a refund for my order.");
      expect(first?.agentId).toBe("agent_store");
      expect(first?.agentName).toBe("Store");
      expect(first?.conversationStartTimeUnixSecs).toBe(BASE_START_TIME + 300);
      expect(first?.chunkHighlights).toEqual([
        { value: "Hi, I would like a ", isHit: false },
        { value: "refund", isHit: true },
        { value: " for my ", isHit: false },
        { value: "order", isHit: true },
        { value: ".", isHit: false },
      ]);
      const scores = data.results.map((r) => r.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(data.hasMore).toBe(false);
      expect(data.nextCursor ?? null).toBeNull();
      expect(data.meta).toEqual({ total: data.results.length, page: 1, pageSize: 20 });
    });

    it("matches inside words, case-insensitively, and prefers whole words", async () => {
      const page = await sdk.client.conversationalAi.conversations.messages.textSearch({
        textQuery: "REFUND",
      });
      expect(new Set(page.results.map((r) => r.conversationId))).toEqual(
        new Set(["conv_refund_1", "conv_refund_2", "conv_refunded_3"]),
      );
      const refunded = page.results.find((r) => r.conversationId === "conv_refunded_3");
      expect(refunded?.score).toBeLessThan(page.results[0]?.score ?? 0);
    });

    it("applies the list filters", async () => {
      const byAgent = await sdk.client.conversationalAi.conversations.messages.textSearch({
        textQuery: "refund",
        agentId: "agent_billing",
      });
      expect(ids(byAgent)).toEqual(["conv_refunded_3#1"]);
      const bySuccess = await sdk.client.conversationalAi.conversations.messages.textSearch({
        textQuery: "refund",
        callSuccessful: "failure",
      });
      expect(ids(bySuccess)).toEqual(["conv_refund_2#2"]);
      const byTime = await sdk.client.conversationalAi.conversations.messages.textSearch({
        textQuery: "refund",
        callStartAfterUnix: BASE_START_TIME + 150,
        callStartBeforeUnix: BASE_START_TIME + 250,
      });
      expect(ids(byTime)).toEqual(["conv_refund_2#2"]);
    });

    it("pages with a stable cursor, by score and by time, without repeats or gaps", async () => {
      for (const sortBy of ["search_score", "created_at"] as const) {
        const all = await sdk.client.conversationalAi.conversations.messages.textSearch({
          textQuery: "refund",
          sortBy,
          pageSize: 50,
        });
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await sdk.client.conversationalAi.conversations.messages.textSearch({
            textQuery: "refund",
            sortBy,
            pageSize: 2,
            cursor,
          });
          seen.push(...ids(page));
          cursor = page.nextCursor ?? undefined;
          expect(page.hasMore).toBe(cursor !== undefined);
          // By score, every hit of the window is counted, not only the page's.
          if (sortBy === "search_score") expect(page.meta?.total).toBe(all.results.length);
          pages++;
          if (pages === 1) {
            // A newer matching conversation arriving between pages does not shift later pages.
            await putConversation(
              server,
              buildConversation({
                id: `conv_late_${sortBy}`,
                startTime: BASE_START_TIME + 10_000,
                messages: ["refund refund refund"],
              }),
            );
          }
        } while (cursor !== undefined && pages < 20);
        expect(seen).toEqual(ids(all));
        expect(seen.length).toBeGreaterThan(2);
        if (sortBy === "created_at") {
          const times = all.results.map((r) => r.conversationStartTimeUnixSecs);
          expect([...times].sort((a, b) => b - a)).toEqual(times);
        }
      }
    });

    it("answers 422 for a missing query, a blank query, an over-long query, a bad page size or cursor", async () => {
      const missing = await server.fetch("/v1/convai/conversations/messages/text-search");
      expect(missing.status).toBe(422);
      expect(await missing.json()).toEqual({
        detail: [{ loc: ["query", "text_query"], msg: "Field required", type: "missing" }],
      });
      for (const query of [
        "text_query=%20%20",
        `text_query=${"a".repeat(501)}`,
        "text_query=refund&page_size=51",
        "text_query=refund&cursor=nope",
        "text_query=refund&sort_by=relevance",
      ]) {
        const response = await server.fetch(`/v1/convai/conversations/messages/text-search?${query}`);
        expect(response.status, query).toBe(422);
        expectWireModel("HttpValidationError", await response.json());
      }
      const error = await catchSdkError(() =>
        sdk.client.conversationalAi.conversations.messages.textSearch({ textQuery: "x", pageSize: 0 }),
      );
      expect(error.statusCode).toBe(422);
    });

    it("is not taken for a conversation id", async () => {
      const response = await server.fetch("/v1/convai/conversations/messages/text-search?text_query=nine");
      expect(response.status).toBe(200);
      const body = (await response.json()) as { results: { conversation_id: string }[] };
      expect(body.results.map((r) => r.conversation_id)).toEqual(["conv_other_4"]);
    });
  });

  describe("GET /v1/convai/conversations/messages/smart-search without an embeddings provider", () => {
    it("falls back to ranked text search and says so", async () => {
      const { data, rawResponse } = await sdk.client.conversationalAi.conversations.messages
        .search({ textQuery: "refund", agentId: "agent_billing" })
        .withRawResponse();
      expect(rawResponse.headers.get("x-openconvai-search-mode")).toBe("text");
      expect(ids(data)).toEqual(["conv_refunded_3#1"]);
    });
  });
});

describe.each(BACKENDS)("semantic message search on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  let fake: FakeOpenAi;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    server = await startTestServer(backend, {
      OPENCONVAI_EMBEDDINGS_URL: `${fake.baseUrl}/embeddings`,
      OPENCONVAI_EMBEDDINGS_MODEL: "toy-embed-1",
      OPENCONVAI_EMBEDDINGS_API_KEY: "sk-embed-test",
      OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS: "50",
    });
    sdk = createRecordingClient(server);
    await putConversations(server, docs);
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  /** Waits until the background indexer has embedded `count` conversations. */
  async function waitForIndex(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (
      (await server.server.services.db.messageSearch.countEmbeddedConversations("toy-embed-1")) < count
    ) {
      if (Date.now() > deadline) throw new Error("the indexer did not embed the conversations in time");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("embeds conversations in the background with the configured model and key", async () => {
    await waitForIndex(docs.length);
    const embeddingRequests = fake.requests.filter((r) => r.path === "/v1/embeddings");
    expect(embeddingRequests.length).toBeGreaterThan(0);
    for (const request of embeddingRequests) {
      expect(request.authorization).toBe("Bearer sk-embed-test");
      expect(request.body.model).toBe("toy-embed-1");
      expect(Array.isArray(request.body.input)).toBe(true);
    }
    const embedded = embeddingRequests.flatMap((r) => r.body.input as string[]);
    expect(embedded).toContain("It is A-17. The parcel arrived broken.");
  });

  it("finds messages by meaning and says it ran a semantic search", async () => {
    await waitForIndex(docs.length);
    const { data, rawResponse } = await sdk.client.conversationalAi.conversations.messages
      .search({ textQuery: "money back" })
      .withRawResponse();
    expect(rawResponse.headers.get("x-openconvai-search-mode")).toBe("semantic");
    expectWireModel("MessagesSearchResponse", sdk.lastBody());
    const top = data.results[0];
    // "money back" shares no word with the messages; the toy model folds it into "refund".
    expect(top?.chunkText).toMatch(/refund/i);
    expect(top?.chunkHighlights ?? null).toBeNull();
    expect(top?.score).toBeGreaterThan(0.3);
    const scores = data.results.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const query = fake.requests.findLast((r) => r.path === "/v1/embeddings");
    expect(query?.body.input).toEqual(["money back"]);
  });

  it("filters by agent and branch, and pages with a cursor", async () => {
    await waitForIndex(docs.length);
    const billing = await server.client.conversationalAi.conversations.messages.search({
      textQuery: "refund",
      agentId: "agent_billing",
      branchId: "branch_b",
    });
    expect(new Set(billing.results.map((r) => r.conversationId))).toEqual(new Set(["conv_refunded_3"]));

    const all = await server.client.conversationalAi.conversations.messages.search({
      textQuery: "package refund",
      pageSize: 50,
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await server.client.conversationalAi.conversations.messages.search({
        textQuery: "package refund",
        pageSize: 3,
        cursor,
      });
      seen.push(...ids(page));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(ids(all));
  });

  it("re-embeds a conversation whose messages change", async () => {
    await waitForIndex(docs.length);
    await putConversation(
      server,
      buildConversation({ id: "conv_other_4", agentId: "agent_store", messages: ["Reimbursement please."] }),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const page = await server.client.conversationalAi.conversations.messages.search({
        textQuery: "refund",
        agentId: "agent_store",
        pageSize: 50,
      });
      if (
        page.results.some(
          (r) => r.conversationId === "conv_other_4" && r.chunkText === "Reimbursement please.",
        )
      ) {
        break;
      }
      if (Date.now() > deadline) throw new Error("the changed conversation was not re-embedded");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it("skips a conversation the provider refuses and goes on with the others", async () => {
    await waitForIndex(docs.length);
    const previous = fake.onEmbeddings;
    fake.onEmbeddings = (request) =>
      (request.body.input as string[]).some((text) => text.includes("POISON"))
        ? { status: 400, body: { error: { message: "input rejected" } } }
        : previous(request);
    try {
      await putConversations(server, [
        buildConversation({ id: "conv_poison", messages: ["POISON pill"] }),
        buildConversation({ id: "conv_zebra", messages: ["zebra crossing"] }),
      ]);
      await waitForIndex(docs.length + 2);
      const page = await server.client.conversationalAi.conversations.messages.search({
        textQuery: "zebra pill",
        pageSize: 50,
      });
      const found = new Set(page.results.map((r) => r.conversationId));
      expect(found.has("conv_zebra")).toBe(true);
      expect(found.has("conv_poison")).toBe(false);
    } finally {
      fake.onEmbeddings = previous;
    }
  });

  it("answers 502 in upstream's shape when the provider fails", async () => {
    const previous = fake.onEmbeddings;
    fake.onEmbeddings = () => ({ status: 500, body: { error: { message: "boom" } } });
    try {
      const error = await catchSdkError(() =>
        server.client.conversationalAi.conversations.messages.search({ textQuery: "anything at all" }),
      );
      expect(error.statusCode).toBe(502);
      expect(error.body).toEqual({
        detail: { status: "embeddings_provider_error", message: expect.stringContaining("500") },
      });
    } finally {
      fake.onEmbeddings = previous;
    }
  });
});
