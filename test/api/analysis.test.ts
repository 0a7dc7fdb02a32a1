import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_TRANSCRIPT_CHARS } from "../../src/analysis/analysis-prompt.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import {
  completion,
  type FakeOpenAi,
  type RecordedRequest,
  startFakeOpenAi,
} from "../support/fake-openai.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

const AGENT = "agent_shop";
const SETTINGS = {
  evaluation_criteria: [
    { id: "greeted", name: "Greeting", conversation_goal_prompt: "The agent greets the user politely." },
    { id: "solved", conversation_goal_prompt: "The user's problem is solved." },
  ],
  data_collection: {
    order_id: { type: "string", description: "The order number the user mentions." },
    item_count: { type: "integer", description: "How many items the user ordered." },
    wants_newsletter: { type: "boolean", description: "Whether the user asks for the newsletter." },
  },
};

const FULL_ANSWER = {
  transcript_summary: "The user asked about order A-17; the agent found it.",
  call_summary_title: "Order A-17 status",
  call_successful: "success",
  evaluation_criteria_results: {
    greeted: { result: "success", rationale: "The agent said hello." },
    solved: { result: "failure", rationale: "The order was not shipped." },
  },
  data_collection_results: {
    order_id: { value: "A-17", rationale: "Mentioned by the user." },
    item_count: { value: 2, rationale: "Two items." },
    wants_newsletter: { value: null, rationale: "Not mentioned." },
  },
};

function chatRequests(fake: FakeOpenAi): RecordedRequest[] {
  return fake.requests.filter((r) => r.path === "/v1/chat/completions");
}

/** The content of the n-th message of the first chat request the fake received. */
function sentMessage(fake: FakeOpenAi, n: number): string {
  const messages = (chatRequests(fake)[0]?.body.messages ?? []) as { content: string }[];
  return messages[n]?.content ?? "";
}

describe.each(BACKENDS)("post-call analysis on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;
  let fake: FakeOpenAi;
  const conversation = buildConversation({
    id: "conv_order",
    agentId: AGENT,
    agentName: "Shop",
    messages: ["Hello! How can I help?", "Where is my order A-17? I ordered two items.", "Let me check."],
    callSuccessful: null,
  });

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: fake.baseUrl,
      OPENCONVAI_LLM_MODEL: "test-model-1",
      OPENCONVAI_LLM_API_KEY: "sk-llm-test",
    });
    sdk = createRecordingClient(server);
    await putConversations(server, [conversation]);
  });
  beforeEach(async () => {
    fake.onChat = () => completion(FULL_ANSWER);
    expect((await putConversation(server, conversation)).status).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  async function storedAnalysis(): Promise<unknown> {
    const response = await server.fetch("/v1/convai/conversations/conv_order");
    return ((await response.json()) as Record<string, unknown>).analysis;
  }

  describe("PUT /ingest/v1/agents/{agent_id}/analysis-settings", () => {
    it("creates, replaces and reads an agent's settings", async () => {
      const created = await server.fetch(`/ingest/v1/agents/${AGENT}/analysis-settings`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(SETTINGS),
      });
      expect([200, 201]).toContain(created.status);
      const again = await server.fetch(`/ingest/v1/agents/${AGENT}/analysis-settings`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(SETTINGS),
      });
      expect(again.status).toBe(200);
      const read = await server.fetch(`/ingest/v1/agents/${AGENT}/analysis-settings`);
      expect(await read.json()).toEqual({ agent_id: AGENT, ...SETTINGS });
    });

    it("refuses bad settings with 422 and keeps the old ones", async () => {
      const bad = [
        { evaluation_criteria: [{ id: "x" }] },
        { evaluation_criteria: [{ id: "bad id!", conversation_goal_prompt: "p" }] },
        { evaluation_criteria: [{ id: "a", conversation_goal_prompt: "x".repeat(1001) }] },
        { data_collection: { f: { type: "date", description: "d" } } },
        {
          evaluation_criteria: [
            { id: "a", conversation_goal_prompt: "p" },
            { id: "a", conversation_goal_prompt: "q" },
          ],
        },
      ];
      for (const body of bad) {
        const response = await server.fetch(`/ingest/v1/agents/${AGENT}/analysis-settings`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        expect(response.status, JSON.stringify(body)).toBe(422);
        expectWireModel("HttpValidationError", await response.json());
      }
      const read = await server.fetch(`/ingest/v1/agents/${AGENT}/analysis-settings`);
      expect(await read.json()).toEqual({ agent_id: AGENT, ...SETTINGS });
    });
  });

  describe("POST /v1/convai/conversations/{id}/analysis/run", () => {
    it("asks the configured model with the transcript and the agent's settings", async () => {
      fake.requests.length = 0;
      await sdk.client.conversationalAi.conversations.analysis.run("conv_order");
      const [request] = chatRequests(fake);
      expect(request?.authorization).toBe("Bearer sk-llm-test");
      expect(request?.body.model).toBe("test-model-1");
      expect(request?.body.response_format).toMatchObject({ type: "json_schema" });
      const messages = request?.body.messages as { role: string; content: string }[];
      expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
      expect(messages[0]?.content).toContain("The agent greets the user politely.");
      expect(messages[0]?.content).toContain("order_id (string): The order number the user mentions.");
      expect(messages[1]?.content).toContain("user: Hello! How can I help?");
      expect(messages[1]?.content).toContain("agent: Where is my order A-17? I ordered two items.");
    });

    it("writes summary, title, success, criteria and data into analysis and returns the conversation", async () => {
      const result = await sdk.client.conversationalAi.conversations.analysis.run("conv_order");
      const body = sdk.lastBody() as Record<string, unknown>;
      expectWireModel("GetConversationResponseModel", body);
      expect(result.conversationId).toBe("conv_order");
      expect(result.analysis?.callSuccessful).toBe("success");
      expect(result.analysis?.callSummaryTitle).toBe("Order A-17 status");
      expect(body.analysis).toEqual({
        call_successful: "success",
        transcript_summary: FULL_ANSWER.transcript_summary,
        call_summary_title: FULL_ANSWER.call_summary_title,
        evaluation_criteria_results: {
          greeted: { criteria_id: "greeted", result: "success", rationale: "The agent said hello." },
          solved: { criteria_id: "solved", result: "failure", rationale: "The order was not shipped." },
        },
        data_collection_results: {
          order_id: { data_collection_id: "order_id", value: "A-17", rationale: "Mentioned by the user." },
          item_count: { data_collection_id: "item_count", value: 2, rationale: "Two items." },
          wants_newsletter: {
            data_collection_id: "wants_newsletter",
            value: null,
            rationale: "Not mentioned.",
          },
        },
      });
      const { analysis: _a, ...rest } = body;
      const { analysis: _b, ...original } = conversation;
      expect(rest).toMatchObject(original);
      expect(await storedAnalysis()).toEqual(body.analysis);

      // The list filters and projections see the new analysis.
      const list = await sdk.client.conversationalAi.conversations.list({
        evaluationParams: ["solved:failure"],
        dataCollectionParams: ["item_count:gte:2"],
        callSuccessful: "success",
        summaryMode: "include",
      });
      expect(
        list.conversations.map((c) => [c.conversationId, c.callSummaryTitle, c.transcriptSummary]),
      ).toEqual([["conv_order", "Order A-17 status", FULL_ANSWER.transcript_summary]]);
    });

    it("answers 502 in upstream's shape and writes nothing when the model's answer does not fit", async () => {
      const before = await storedAnalysis();
      const answers = [
        completion("not json at all"),
        completion({ ...FULL_ANSWER, call_successful: "maybe" }),
        completion({
          ...FULL_ANSWER,
          evaluation_criteria_results: { greeted: FULL_ANSWER.evaluation_criteria_results.greeted },
        }),
        completion({
          ...FULL_ANSWER,
          data_collection_results: {
            ...FULL_ANSWER.data_collection_results,
            item_count: { value: "two", rationale: "" },
          },
        }),
        { body: { choices: [] } },
      ];
      for (const answer of answers) {
        fake.onChat = () => answer;
        const error = await catchSdkError(() =>
          sdk.client.conversationalAi.conversations.analysis.run("conv_order"),
        );
        expect(error.statusCode).toBe(502);
        expect(error.body).toEqual({
          detail: {
            status: expect.stringMatching(/^llm_(invalid_output|provider_error)$/),
            message: expect.any(String),
          },
        });
        expect(await storedAnalysis()).toEqual(before);
      }
      fake.onChat = () => ({ status: 500, body: { error: { message: "overloaded" } } });
      const error = await catchSdkError(() =>
        sdk.client.conversationalAi.conversations.analysis.run("conv_order"),
      );
      expect(error.statusCode).toBe(502);
      expect(error.body).toEqual({
        detail: { status: "llm_provider_error", message: expect.stringContaining("500") },
      });
      expect(await storedAnalysis()).toEqual(before);
    });

    it("falls back to plain JSON mode when the provider refuses structured output", async () => {
      fake.requests.length = 0;
      fake.onChat = (request) =>
        (request.body.response_format as { type: string }).type === "json_schema"
          ? { status: 400, body: { error: { message: "response_format json_schema is not supported" } } }
          : completion(FULL_ANSWER);
      const result = await sdk.client.conversationalAi.conversations.analysis.run("conv_order");
      expect(result.analysis?.callSummaryTitle).toBe("Order A-17 status");
      expect(chatRequests(fake).map((r) => (r.body.response_format as { type: string }).type)).toEqual([
        "json_schema",
        "json_object",
      ]);
    });

    it("answers 404 for an unknown conversation without asking the model", async () => {
      fake.requests.length = 0;
      const error = await catchSdkError(() =>
        sdk.client.conversationalAi.conversations.analysis.run("conv_nope"),
      );
      expect(error.statusCode).toBe(404);
      expect(error.body).toEqual({
        detail: { status: "conversation_not_found", message: expect.stringContaining("conv_nope") },
      });
      expect(chatRequests(fake)).toHaveLength(0);
    });

    it("sends at most the transcript limit, keeping its start and end", async () => {
      const long = buildConversation({
        id: "conv_long",
        agentId: AGENT,
        messages: [
          "FIRST LINE",
          ...Array.from({ length: 200 }, (_, i) => `${i} ${"blah ".repeat(100)}`),
          "LAST LINE",
        ],
      });
      await putConversation(server, long);
      fake.requests.length = 0;
      await sdk.client.conversationalAi.conversations.analysis.run("conv_long");
      const content = sentMessage(fake, 1);
      expect(content.length).toBeLessThan(MAX_TRANSCRIPT_CHARS + 200);
      expect(content).toContain("FIRST LINE");
      expect(content).toContain("LAST LINE");
      expect(content).toContain("left out");
    });
  });

  describe("POST /v1/convai/conversations/{id}/analysis/evaluations/run", () => {
    it("re-runs one criterion and keeps the other results", async () => {
      await sdk.client.conversationalAi.conversations.analysis.run("conv_order");
      fake.requests.length = 0;
      fake.onChat = () =>
        completion({
          evaluation_criteria_results: { solved: { result: "success", rationale: "Shipped after all." } },
          data_collection_results: {},
        });
      const result = await sdk.client.conversationalAi.conversations.analysis.runEvaluation("conv_order", {
        evaluationId: "solved",
      });
      expectWireModel("GetConversationResponseModel", sdk.lastBody());
      expect(result.analysis?.evaluationCriteriaResults?.solved).toEqual({
        criteriaId: "solved",
        result: "success",
        rationale: "Shipped after all.",
      });
      expect(result.analysis?.evaluationCriteriaResults?.greeted?.result).toBe("success");
      expect(result.analysis?.callSummaryTitle).toBe("Order A-17 status");
      expect(result.analysis?.dataCollectionResults?.order_id?.value).toBe("A-17");
      const system = sentMessage(fake, 0);
      expect(system).toContain("The user's problem is solved.");
      expect(system).not.toContain("The agent greets the user politely.");
      expect(system).not.toContain("transcript_summary:");
    });

    it("answers 404 for a criterion the agent does not define, and 422 without an evaluation_id", async () => {
      const before = await storedAnalysis();
      const unknown = await catchSdkError(() =>
        sdk.client.conversationalAi.conversations.analysis.runEvaluation("conv_order", {
          evaluationId: "nope",
        }),
      );
      expect(unknown.statusCode).toBe(404);
      expect(unknown.body).toEqual({
        detail: { status: "evaluation_criterion_not_found", message: expect.stringContaining("nope") },
      });
      const missing = await server.fetch("/v1/convai/conversations/conv_order/analysis/evaluations/run", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scope: "agent" }),
      });
      expect(missing.status).toBe(422);
      expect(await missing.json()).toEqual({
        detail: [{ loc: ["body", "evaluation_id"], msg: "Field required", type: "missing" }],
      });
      expect(await storedAnalysis()).toEqual(before);
    });
  });
});

describe.each(BACKENDS)("analysis without an LLM provider on %s", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(server, [buildConversation({ id: "conv_plain" })]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers 400 saying how to configure one", async () => {
    for (const call of [
      () => server.client.conversationalAi.conversations.analysis.run("conv_plain"),
      () =>
        server.client.conversationalAi.conversations.analysis.runEvaluation("conv_plain", {
          evaluationId: "x",
        }),
    ]) {
      const error = await catchSdkError(call);
      expect(error.statusCode).toBe(400);
      expect(error.body).toEqual({
        detail: {
          status: "analysis_not_configured",
          message: expect.stringContaining("OPENCONVAI_LLM_BASE_URL"),
        },
      });
    }
  });
});
