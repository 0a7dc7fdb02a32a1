import type { TextConversation } from "@elevenlabs/client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AnalysisDeps } from "../../src/analysis/analysis-service.js";
import { type AnalysisLog, analyseLiveConversation } from "../../src/analysis/live-analysis.js";
import type { ChatModel } from "../../src/providers/llm/chat-model.js";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmScript, type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { eventually } from "./eventually.js";
import { startTextSession } from "./text-session.js";

/** The agent's own analysis settings, as the SDK sends them. */
const AGENT_ANALYSIS = {
  evaluation: {
    criteria: [
      {
        id: "found_order",
        name: "Order found",
        type: "prompt" as const,
        conversationGoalPrompt: "The agent tells the user where the order is.",
      },
    ],
  },
  dataCollection: {
    order_id: { type: "string" as const, description: "The order number the user gives." },
    // Filled from a dynamic variable upstream: not the model's to answer.
    user_name: { type: "string" as const, dynamicVariable: "name" },
  },
};

/** Settings stored by the ingest route: they must not be used for an agent served here. */
const INGEST_SETTINGS = {
  evaluation_criteria: [{ id: "ingest_only", conversation_goal_prompt: "Criterion from the ingest route." }],
  data_collection: { ingest_field: { type: "boolean", description: "Field from the ingest route." } },
};

const AGENT_ANSWER = {
  transcript_summary: "The user asked where order A-17 is.",
  call_summary_title: "Order A-17",
  call_successful: "success",
  evaluation_criteria_results: { found_order: { result: "success", rationale: "The agent answered." } },
  data_collection_results: { order_id: { value: "A-17", rationale: "The user said it." } },
};

const INGEST_ANSWER = {
  transcript_summary: "A conversation copied from elsewhere.",
  call_summary_title: "Copied",
  call_successful: "unknown",
  evaluation_criteria_results: { ingest_only: { result: "failure", rationale: "Not met." } },
  data_collection_results: { ingest_field: { value: true, rationale: "Said so." } },
};

/** The system and user messages of an analysis request (one that asks for a JSON answer). */
function analysisPrompts(llm: FakeLlmServer): { system: string; user: string }[] {
  return llm.requests
    .filter((body) => body.response_format !== undefined)
    .map((body) => {
      const messages = body.messages as { content: string }[];
      return { system: messages[0]?.content ?? "", user: messages[1]?.content ?? "" };
    });
}

describe.each(BACKENDS)("post-call analysis of live conversations on %s", (backend) => {
  let server: TestServer;
  let llm: FakeLlmServer;
  let agentId: string;
  /** What the fake model answers to an analysis request (a turn of the agent gets plain text). */
  let analysisReply: FakeLlmScript;
  const open: TextConversation[] = [];

  beforeAll(async () => {
    llm = await startFakeLlmServer((body) =>
      body.response_format !== undefined ? analysisReply : { text: ["Let me ", "check that."] },
    );
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "test-model",
    });
    agentId = (
      await server.client.conversationalAi.agents.create({
        name: "Order desk",
        conversationConfig: { agent: { firstMessage: "" } },
        platformSettings: AGENT_ANALYSIS,
      })
    ).agentId;
    const put = await server.fetch(`/ingest/v1/agents/${agentId}/analysis-settings`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(INGEST_SETTINGS),
    });
    expect(put.status).toBe(201);
  });
  beforeEach(() => {
    analysisReply = { text: [JSON.stringify(AGENT_ANSWER)] };
    llm.requests.length = 0;
  });
  afterEach(async () => {
    for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.stop();
    await llm?.close();
  });

  const getConversation = (id: string) => server.client.conversationalAi.conversations.get(id);
  const analysisDeps = (): AnalysisDeps => {
    const { db, conversations, agents } = server.server.services;
    return {
      conversationStore: db.conversations,
      conversations,
      analysisSettings: db.analysisSettings,
      agents,
    };
  };
  const chatModel = (): ChatModel => server.server.services.ai.llm as ChatModel;
  /** Records a conversation as a live session leaves it for post-call work: `processing`. */
  const putProcessing = async (id: string, agent: string) => {
    await server.server.services.conversations.putConversation(
      {
        agent_id: agent,
        conversation_id: id,
        status: "processing",
        transcript: [
          { role: "user", message: "Where is my order A-17?", time_in_call_secs: 0 },
          { role: "agent", message: "It ships tomorrow.", time_in_call_secs: 2 },
        ],
        metadata: { start_time_unix_secs: 1_750_000_000, call_duration_secs: 3, text_only: true },
      },
      { conversationId: id },
    );
  };

  it("analyses a session that ended well with the agent's own criteria and fields, then marks it done", async () => {
    const session = await startTextSession(server.url, agentId);
    open.push(session.conversation);
    const id = session.conversation.getId();
    session.conversation.sendUserMessage("Where is my order A-17?");
    await session.waitFor("message", (m) => m.role === "agent");
    await session.conversation.endSession();

    const stored = await eventually(
      () => getConversation(id),
      (c) => c.status === "done",
    );
    expect(stored.status).toBe("done");
    expect(stored.analysis?.evaluationCriteriaResults).toEqual({
      found_order: { criteriaId: "found_order", result: "success", rationale: "The agent answered." },
    });
    expect(stored.analysis?.dataCollectionResults).toEqual({
      order_id: { dataCollectionId: "order_id", value: "A-17", rationale: "The user said it." },
    });
    expect(stored.analysis?.callSuccessful).toBe("success");
    expect(stored.analysis?.transcriptSummary).toBe("The user asked where order A-17 is.");

    const [prompt] = analysisPrompts(llm);
    expect(prompt?.system).toContain(
      "found_order (Order found): The agent tells the user where the order is.",
    );
    expect(prompt?.system).toContain("order_id (string): The order number the user gives.");
    expect(prompt?.system).not.toContain("user_name");
    expect(prompt?.user).toContain("user: Where is my order A-17?");
  });

  it("uses the agent served here over the analysis settings stored for its id by the ingest route", async () => {
    await putProcessing("conv_live_precedence", agentId);
    await analyseLiveConversation(analysisDeps(), chatModel(), "conv_live_precedence");
    const [prompt] = analysisPrompts(llm);
    expect(prompt?.system).toContain("The agent tells the user where the order is.");
    expect(prompt?.system).not.toContain("ingest_only");
    expect(prompt?.system).not.toContain("ingest_field");
    const stored = await getConversation("conv_live_precedence");
    expect(stored.status).toBe("done");
    expect(Object.keys(stored.analysis?.evaluationCriteriaResults ?? {})).toEqual(["found_order"]);
  });

  it("uses the ingest settings for an agent that lives elsewhere", async () => {
    const put = await server.fetch("/ingest/v1/agents/agent_elsewhere/analysis-settings", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(INGEST_SETTINGS),
    });
    expect(put.status).toBe(201);
    analysisReply = { text: [JSON.stringify(INGEST_ANSWER)] };
    await putProcessing("conv_live_elsewhere", "agent_elsewhere");
    await analyseLiveConversation(analysisDeps(), chatModel(), "conv_live_elsewhere");
    const stored = await getConversation("conv_live_elsewhere");
    expect(stored.status).toBe("done");
    expect(stored.analysis?.evaluationCriteriaResults?.ingest_only?.result).toBe("failure");
    expect(stored.analysis?.dataCollectionResults?.ingest_field?.value).toBe(true);
  });

  it("marks the conversation done without analysis when the model fails, logging no content at warn", async () => {
    analysisReply = { status: 500, errorMessage: "echo: Where is my order A-17?" };
    await putProcessing("conv_live_llm_down", agentId);
    const warnings: unknown[][] = [];
    const log: AnalysisLog = { warn: (...args) => warnings.push(args), debug: () => undefined };
    await analyseLiveConversation(analysisDeps(), chatModel(), "conv_live_llm_down", log);
    const stored = await getConversation("conv_live_llm_down");
    expect(stored.status).toBe("done");
    expect(stored.analysis).toBeUndefined();
    expect(stored.transcript).toHaveLength(2);
    expect(warnings).toEqual([
      [
        { conversationId: "conv_live_llm_down", error: "ProviderError" },
        expect.stringMatching(/without analysis/),
      ],
    ]);
    expect(JSON.stringify(warnings)).not.toContain("A-17");
  });

  it("marks the conversation done without analysis when the answer does not fit the agent's settings", async () => {
    analysisReply = { text: [JSON.stringify({ ...AGENT_ANSWER, evaluation_criteria_results: {} })] };
    await putProcessing("conv_live_bad_answer", agentId);
    const warnings: unknown[][] = [];
    const log: AnalysisLog = { warn: (...args) => warnings.push(args), debug: () => undefined };
    await analyseLiveConversation(analysisDeps(), chatModel(), "conv_live_bad_answer", log);
    const stored = await getConversation("conv_live_bad_answer");
    expect(stored.status).toBe("done");
    expect(stored.analysis).toBeUndefined();
    expect(warnings.map(([context]) => context)).toEqual([
      { conversationId: "conv_live_bad_answer", error: "InvalidAnswerError" },
    ]);
  });

  it("runs the manual analysis endpoint with the agent's own criteria too", async () => {
    await putProcessing("conv_live_manual", agentId);
    const result = await server.client.conversationalAi.conversations.analysis.run("conv_live_manual");
    expect(result.analysis?.evaluationCriteriaResults?.found_order?.result).toBe("success");
    expect(result.analysis?.dataCollectionResults?.order_id?.value).toBe("A-17");
    const [prompt] = analysisPrompts(llm);
    expect(prompt?.system).not.toContain("ingest_only");
    const missing = await server.fetch("/v1/convai/conversations/conv_live_manual/analysis/evaluations/run", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ evaluation_id: "ingest_only" }),
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: { message: string } }).detail.message).toContain(
      "platform_settings.evaluation.criteria",
    );
  });
});

describe.each(BACKENDS)("live conversations without an LLM on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("records a session that ended well as done, with no analysis", async () => {
    const agentId = (
      await server.client.conversationalAi.agents.create({
        conversationConfig: { agent: { firstMessage: "" } },
        platformSettings: AGENT_ANALYSIS,
      })
    ).agentId;
    const session = await startTextSession(server.url, agentId);
    const id = session.conversation.getId();
    session.conversation.sendUserMessage("hello");
    await session.waitFor("message", (m) => m.role === "agent");
    await session.conversation.endSession();
    const stored = await eventually(
      () => server.client.conversationalAi.conversations.get(id),
      (c) => c.status !== "in-progress",
    );
    expect(stored.status).toBe("done");
    expect(stored.analysis).toBeUndefined();
  });
});
