import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const DAY = 86_400;
const DAY_1 = 1_700_006_400; // a UTC midnight
const TOPICS = [
  { topic_id: "billing", label: "Billing", description: "Invoices and payments", x_2d: 0.1, y_2d: -0.4 },
  { topic_id: "refunds", label: "Refunds", description: "Money back", parent_topic_id: "billing" },
  { topic_id: "shipping", label: "Shipping", description: "Where is my parcel" },
  { topic_id: "returns", label: "Returns", description: "Sending things back" },
];

describe.each(BACKENDS)("GET /v1/convai/agents/{agent_id}/topics on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  const putTopics = (agentId: string, body: unknown) =>
    server.fetch(`/ingest/v1/agents/${agentId}/topics`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, [
      buildConversation({
        id: "c1",
        agentId: "agent_shop",
        startTime: DAY_1 + 100,
        topicIds: ["billing", "refunds"],
        evaluations: { polite: "success", solved: "failure" },
      }),
      buildConversation({
        id: "c2",
        agentId: "agent_shop",
        startTime: DAY_1 + 200,
        topicIds: ["billing"],
        evaluations: { polite: "success", solved: "success" },
      }),
      buildConversation({
        id: "c3",
        agentId: "agent_shop",
        startTime: DAY_1 + DAY + 50,
        topicIds: ["shipping"],
        evaluations: { solved: "unknown" },
      }),
      buildConversation({ id: "c4", agentId: "agent_other", startTime: DAY_1 + 300, topicIds: ["billing"] }),
    ]);
    expect((await putTopics("agent_shop", TOPICS)).status).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const topics = () => sdk.client.conversationalAi.conversations.topics;

  it("reports each topic with conversation counts and evaluation metrics from the stored conversations", async () => {
    const report = await topics().get("agent_shop");
    expectWireModel("GetAgentTopicsResponseModel", sdk.lastBody());
    // Ranked by conversations (desc); subtopics follow their parent; unscored ties keep definition order.
    expect(report.topics.map((t) => [t.topicId, t.conversationCount])).toEqual([
      ["billing", 2],
      ["refunds", 1],
      ["shipping", 1],
      ["returns", 0],
    ]);
    const billing = report.topics[0];
    expect(billing?.label).toBe("Billing");
    expect(billing?.x2D).toBe(0.1);
    expect(billing?.metrics?.evaluationCriteria).toEqual([
      { criteriaId: "polite", successCount: 2, failureCount: 0, unknownCount: 0 },
      { criteriaId: "solved", successCount: 1, failureCount: 1, unknownCount: 0 },
    ]);
    expect(billing?.successRate).toBeCloseTo(3 / 4);
    expect(report.topics[1]?.parentTopicId).toBe("billing");
    expect(report.topics[3]?.successRate ?? null).toBeNull();
    expect(report.windowStartUnixSecs).toBe(DAY_1);
    expect(report.windowEndUnixSecs).toBe(DAY_1 + DAY + 50);
    expect(report.hasMore).toBe(false);
  });

  it("scopes metrics to a window (start floored to its UTC day) and drops criteria on request", async () => {
    const report = await topics().get("agent_shop", {
      fromUnixSecs: DAY_1 + 150,
      toUnixSecs: DAY_1 + DAY,
      includeEvaluationCriteria: false,
    });
    expectWireModel("GetAgentTopicsResponseModel", sdk.lastBody());
    expect(report.windowStartUnixSecs).toBe(DAY_1);
    expect(report.windowEndUnixSecs).toBe(DAY_1 + DAY);
    expect(Object.fromEntries(report.topics.map((t) => [t.topicId, t.conversationCount]))).toEqual({
      billing: 2,
      refunds: 1,
      shipping: 0,
      returns: 0,
    });
    expect(report.topics[0]?.metrics?.evaluationCriteria ?? null).toBeNull();
    expect(report.topics[0]?.successRate).toBeCloseTo(3 / 4);
  });

  it("sorts by success rate with unscored topics last, and pages over top-level topics", async () => {
    const ascending = await topics().get("agent_shop", { sortBy: "success_rate", sortDirection: "asc" });
    expect(ascending.topics.map((t) => t.topicId)).toEqual(["billing", "refunds", "shipping", "returns"]);
    const first = await topics().get("agent_shop", { pageSize: 2 });
    expect(first.topics.map((t) => t.topicId)).toEqual(["billing", "refunds", "shipping"]);
    expect(first.hasMore).toBe(true);
    const second = await topics().get("agent_shop", { pageSize: 2, cursor: first.nextCursor ?? undefined });
    expectWireModel("GetAgentTopicsResponseModel", sdk.lastBody());
    expect(second.topics.map((t) => t.topicId)).toEqual(["returns"]);
    expect(second.hasMore).toBe(false);
  });

  it("answers 404 for an agent without topics and 422 for bad input; a bad PUT keeps the old topics", async () => {
    const unknown = await catchSdkError(() => topics().get("agent_other"));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toMatchObject({ detail: { status: "topics_not_found" } });
    expect((await catchSdkError(() => topics().get("agent_shop", { cursor: "zzz" }))).statusCode).toBe(422);
    expect(
      (
        await catchSdkError(() =>
          topics().get("agent_shop", { fromUnixSecs: DAY_1 + DAY * 3, toUnixSecs: DAY_1 }),
        )
      ).statusCode,
    ).toBe(422);

    for (const body of [
      [{ topic_id: "a", label: "A" }],
      [
        { topic_id: "a", label: "A", description: "" },
        { topic_id: "a", label: "A2", description: "" },
      ],
      [{ topic_id: "a", label: "A", description: "", parent_topic_id: "missing" }],
      [
        { topic_id: "a", label: "A", description: "" },
        { topic_id: "b", label: "B", description: "", parent_topic_id: "a" },
        { topic_id: "c", label: "C", description: "", parent_topic_id: "b" },
      ],
    ]) {
      expect((await putTopics("agent_shop", body)).status).toBe(422);
    }
    expect((await topics().get("agent_shop")).topics).toHaveLength(4);
  });
});
