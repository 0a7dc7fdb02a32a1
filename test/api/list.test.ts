import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BASE_START_TIME,
  buildBulkConversations,
  buildConversation,
  type ConversationDocument,
} from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

type ListRequest = ElevenLabs.conversationalAi.ConversationsListRequest;

const BULK = 260;
/** Every fourth bulk conversation belongs to agent_b, the rest to agent_a. */
const agentFor = (n: number) => (n % 4 === 0 ? "agent_b" : "agent_a");

function startOf(doc: ConversationDocument): number {
  return (doc.metadata as { start_time_unix_secs: number }).start_time_unix_secs;
}

/** The order the list must use: start time, then id, both in the requested direction. */
function sortedIds(docs: readonly ConversationDocument[], direction: "asc" | "desc"): string[] {
  const sign = direction === "asc" ? 1 : -1;
  return [...docs]
    .sort((a, b) => {
      const byStart = startOf(a) - startOf(b);
      if (byStart !== 0) return sign * byStart;
      return sign * (String(a.conversation_id) < String(b.conversation_id) ? -1 : 1);
    })
    .map((d) => String(d.conversation_id));
}

describe.each(BACKENDS)("GET /v1/convai/conversations (paging and shape) on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  const bulk = buildBulkConversations(BULK, agentFor);

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, bulk);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Lists one page through the SDK and checks the wire body against the upstream model. */
  async function listPage(request: ListRequest) {
    const page = await sdk.client.conversationalAi.conversations.list(request);
    expectWireModel("GetConversationsPageResponseModel", sdk.lastBody());
    return page;
  }

  /** Follows next_cursor to the end; returns every page's ids. */
  async function walk(request: ListRequest): Promise<{ pages: string[][]; hasMore: boolean[] }> {
    const pages: string[][] = [];
    const hasMore: boolean[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const page = await listPage({ ...request, cursor });
      pages.push(page.conversations.map((c) => c.conversationId));
      hasMore.push(page.hasMore);
      if (!page.hasMore) {
        expect(page.nextCursor ?? null).toBeNull();
        return { pages, hasMore };
      }
      expect(page.nextCursor).toEqual(expect.any(String));
      cursor = page.nextCursor as string;
    }
    throw new Error("pagination did not end");
  }

  it("has groups of equal start times in its fixture, so ties are exercised", () => {
    const starts = bulk.map(startOf);
    expect(new Set(starts).size).toBeLessThan(BULK / 2);
  });

  it(`pages through all ${BULK} conversations newest first, ties broken by id`, async () => {
    const { pages, hasMore } = await walk({ pageSize: 100 });
    expect(pages.map((p) => p.length)).toEqual([100, 100, 60]);
    expect(hasMore).toEqual([true, true, false]);
    expect(pages.flat()).toEqual(sortedIds(bulk, "desc"));
  });

  it("pages oldest first with sort_direction=asc", async () => {
    const { pages } = await walk({ pageSize: 100, sortDirection: "asc" });
    expect(pages.flat()).toEqual(sortedIds(bulk, "asc"));
  });

  it("pages one conversation at a time with page_size=1", async () => {
    const after = BASE_START_TIME + 40 * 60;
    const before = BASE_START_TIME + 80 * 60;
    const request: ListRequest = {
      pageSize: 1,
      agentId: "agent_b",
      callStartAfterUnix: after,
      callStartBeforeUnix: before,
    };
    const expected = sortedIds(
      bulk.filter((d) => d.agent_id === "agent_b" && startOf(d) > after && startOf(d) < before),
      "desc",
    );
    expect(expected.length).toBeGreaterThan(10);
    const { pages } = await walk(request);
    expect(pages.every((p) => p.length === 1)).toBe(true);
    expect(pages.flat()).toEqual(expected);
  });

  it("pages through a filtered list without skipping or repeating", async () => {
    const { pages } = await walk({ pageSize: 7, agentId: "agent_a" });
    expect(pages.flat()).toEqual(
      sortedIds(
        bulk.filter((d) => d.agent_id === "agent_a"),
        "desc",
      ),
    );
  });

  it("returns 30 conversations when page_size is not given", async () => {
    const page = await listPage({});
    expect(page.conversations).toHaveLength(30);
    expect(page.hasMore).toBe(true);
    expect(page.conversations.map((c) => c.conversationId)).toEqual(sortedIds(bulk, "desc").slice(0, 30));
  });

  it("gives the same page again for the same cursor", async () => {
    const first = await listPage({ pageSize: 25 });
    const cursor = first.nextCursor ?? undefined;
    const again = await listPage({ pageSize: 25, cursor });
    const once = await listPage({ pageSize: 25, cursor });
    expect(again.conversations.map((c) => c.conversationId)).toEqual(
      once.conversations.map((c) => c.conversationId),
    );
    expect(again.conversations.map((c) => c.conversationId)).toEqual(sortedIds(bulk, "desc").slice(25, 50));
  });

  it("returns at most 100 with page_size=100", async () => {
    const page = await listPage({ pageSize: 100 });
    expect(page.conversations).toHaveLength(100);
  });

  it("answers an empty result with has_more false and no cursor", async () => {
    const page = await listPage({ agentId: "agent_nobody" });
    expect(page.conversations).toEqual([]);
    expect(page.hasMore).toBe(false);
    expect(page.nextCursor ?? null).toBeNull();
  });

  it("does not offer a next page when the last page is exactly full", async () => {
    const agentB = bulk.filter((d) => d.agent_id === "agent_b").length;
    const page = await listPage({ agentId: "agent_b", pageSize: agentB });
    expect(page.conversations).toHaveLength(agentB);
    expect(page.hasMore).toBe(false);
    expect(page.nextCursor ?? null).toBeNull();
  });
});

describe.each(BACKENDS)("GET /v1/convai/conversations cursor stability on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps its place while new conversations arrive and old ones are deleted", async () => {
    const original = buildBulkConversations(60, () => "agent_a");
    await putConversations(server, original);
    const expected = sortedIds(original, "desc");
    const list = sdk.client.conversationalAi.conversations;

    const first = await list.list({ pageSize: 20 });
    const firstIds = first.conversations.map((c) => c.conversationId);
    expect(firstIds).toEqual(expected.slice(0, 20));
    const last = first.conversations[19] as ElevenLabs.ConversationSummaryResponseModel;

    // While the client holds the cursor: newer conversations arrive (they sort before the cursor,
    // so they must not show up), one arrives with the cursor's own start time and a smaller id
    // (it sorts after the cursor, so it must), an older one arrives, and the cursor's own
    // conversation is deleted.
    const newer = [1, 2, 3].map((i) =>
      buildConversation({ id: `conv_newer_${i}`, startTime: BASE_START_TIME + 100_000 + i }),
    );
    const tie = buildConversation({ id: "conv_a_tie", startTime: last.startTimeUnixSecs });
    const older = buildConversation({ id: "conv_older", startTime: BASE_START_TIME - 100_000 });
    await putConversations(server, [...newer, tie, older]);
    await list.delete(last.conversationId);

    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await list.list({ pageSize: 20, cursor });
      rest.push(...page.conversations.map((c) => c.conversationId));
      cursor = page.hasMore ? page.nextCursor : undefined;
    }
    expect(rest).toEqual(
      sortedIds(
        [...original.filter((d) => !firstIds.includes(String(d.conversation_id))), tie, older],
        "desc",
      ),
    );
    expect(rest).toContain("conv_a_tie");
    expect(rest.at(-1)).toBe("conv_older");
  });
});

describe.each(BACKENDS)("GET /v1/convai/conversations items on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  const full = buildConversation({
    id: "conv_item_full",
    agentId: "agent_items",
    agentName: "Support Bot",
    startTime: BASE_START_TIME + 10,
    duration: 95.5,
    status: "done",
    callSuccessful: "failure",
    summary: "The caller wanted a refund.",
    title: "Refund request",
    branchId: "branch_x",
    versionId: "ver_3",
    mainLanguage: "de",
    initiationSource: "twilio",
    rating: 4,
    terminationReason: "Client disconnected",
    messages: ["Hallo", "Guten Tag", "Ich möchte eine Rückerstattung"],
    tools: [{ name: "lookup_order" }, { name: "refund", error: true }, { name: "never_ran", called: false }],
    evaluations: { politeness: "success", resolution: "failure" },
    dataCollection: { order_id: "A-17", amount: 42.5 },
    phoneDirection: "inbound",
    extra: {
      analysis: {
        call_successful: "failure",
        transcript_summary: "The caller wanted a refund.",
        call_summary_title: "Refund request",
        call_success_score: 0.25,
        evaluation_criteria_results: {
          politeness: {
            criteria_id: "politeness",
            result: "success",
            rationale: "ok",
            score: 8,
            max_score: 10,
          },
          resolution: { criteria_id: "resolution", result: "failure", rationale: "no" },
        },
        data_collection_results: {
          order_id: { data_collection_id: "order_id", value: "A-17", rationale: "said" },
          amount: { data_collection_id: "amount", value: 42.5, rationale: "said" },
        },
        sentiment_analysis: {
          overall_label: "negative",
          overall_sentiment_score: -0.4,
          overall_frustration_score: 0.7,
          min_user_sentiment_score: -0.8,
          max_user_frustration_score: 0.9,
          num_scored_user_turns: 2,
        },
      },
    },
  });
  const minimal = buildConversation({
    id: "conv_item_minimal",
    agentId: "agent_items",
    startTime: BASE_START_TIME,
    callSuccessful: null,
    messages: [],
    status: "in-progress",
  });

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, [full, minimal]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function listBodies(request: ListRequest): Promise<Record<string, unknown>[]> {
    const page = await sdk.client.conversationalAi.conversations.list({ agentId: "agent_items", ...request });
    const body = sdk.lastBody() as { conversations: Record<string, unknown>[] };
    expectWireModel("GetConversationsPageResponseModel", body);
    expect(page.conversations.map((c) => c.conversationId)).toEqual(
      body.conversations.map((c) => c.conversation_id),
    );
    return body.conversations;
  }

  it("summarises each conversation as upstream's list item", async () => {
    const [item, bare] = await listBodies({});
    expect(item).toEqual({
      agent_id: "agent_items",
      conversation_id: "conv_item_full",
      start_time_unix_secs: BASE_START_TIME + 10,
      call_duration_secs: 95.5,
      message_count: 3,
      status: "done",
      call_successful: "failure",
      branch_id: "branch_x",
      version_id: "ver_3",
      agent_name: "Support Bot",
      termination_reason: "Client disconnected",
      call_success_score: 0.25,
      call_summary_title: "Refund request",
      main_language: "de",
      conversation_initiation_source: "twilio",
      tool_names: ["lookup_order", "refund"],
      direction: "inbound",
      rating: 4,
      sentiment_analysis: {
        overall_label: "negative",
        overall_sentiment_score: -0.4,
        overall_frustration_score: 0.7,
        min_user_sentiment_score: -0.8,
        max_user_frustration_score: 0.9,
        num_scored_user_turns: 2,
      },
    });
    // Without an analysis the outcome is "unknown", which the SDK requires to be present.
    expect(bare).toEqual({
      agent_id: "agent_items",
      conversation_id: "conv_item_minimal",
      start_time_unix_secs: BASE_START_TIME,
      call_duration_secs: 60,
      message_count: 0,
      status: "in-progress",
      call_successful: "unknown",
    });
  });

  it("leaves transcript summaries out by default and with summary_mode=exclude", async () => {
    for (const request of [{}, { summaryMode: "exclude" as const }]) {
      const items = await listBodies(request);
      for (const item of items) expect(item).not.toHaveProperty("transcript_summary");
    }
  });

  it("includes transcript summaries with summary_mode=include", async () => {
    const page = await sdk.client.conversationalAi.conversations.list({
      agentId: "agent_items",
      summaryMode: "include",
    });
    expectWireModel("GetConversationsPageResponseModel", sdk.lastBody());
    expect(page.conversations.map((c) => [c.conversationId, c.transcriptSummary])).toEqual([
      ["conv_item_full", "The caller wanted a refund."],
      ["conv_item_minimal", undefined],
    ]);
  });

  it("adds only the requested evaluation results with evaluation_criteria_ids", async () => {
    const [item, bare] = await listBodies({ evaluationCriteriaIds: ["resolution", "not_there"] });
    expect(item?.evaluation_criteria_results).toEqual({ resolution: { result: "failure" } });
    expect(bare?.evaluation_criteria_results).toEqual({});
    const [withScore] = await listBodies({ evaluationCriteriaIds: "politeness" });
    expect(withScore?.evaluation_criteria_results).toEqual({
      politeness: { result: "success", score: 8, max_score: 10 },
    });
  });

  it("adds only the requested data collection values with data_collection_ids", async () => {
    const [item] = await listBodies({ dataCollectionIds: ["amount"] });
    expect(item?.data_collection_results).toEqual({ amount: 42.5 });
    const [both] = await listBodies({ dataCollectionIds: ["amount", "order_id"] });
    expect(both?.data_collection_results).toEqual({ amount: 42.5, order_id: "A-17" });
  });

  it("leaves evaluation and data collection results out when not asked for", async () => {
    for (const item of await listBodies({})) {
      expect(item).not.toHaveProperty("evaluation_criteria_results");
      expect(item).not.toHaveProperty("data_collection_results");
    }
  });
});
