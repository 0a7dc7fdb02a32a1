import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SessionConnectionError, type TextConversation } from "@elevenlabs/client";
import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { readConversationUntil } from "./eventually.js";
import { type SessionExtras, startTextSession, type TextSession } from "./text-session.js";

type Json = Record<string, unknown>;

/** The chat messages of a streamed agent-turn request. */
const messagesOf = (body: Json) => (body.messages as Json[] | undefined) ?? [];
/** The latest user message of a request. */
const lastUser = (body: Json) =>
  [...messagesOf(body)].reverse().find((m) => m.role === "user")?.content as string | undefined;
/** Whether the request ends with a tool result (the model goes on with it). */
const hasToolResult = (body: Json) => messagesOf(body).at(-1)?.role === "tool";

/** What the user of these sessions asks for the webhook tool. */
const WEATHER_QUESTION = "what is the weather in Paris";

/** The post-call analysis the fake model answers (a request with a response_format). */
const ANALYSIS = {
  transcript_summary: "The user asked about the weather in Paris.",
  call_summary_title: "Weather in Paris",
  call_successful: "success",
  evaluation_criteria_results: { answered: { result: "success", rationale: "The agent answered." } },
  data_collection_results: { city: { value: "Paris", rationale: "The user named it." } },
};

/** A small weather service the agent's webhook tool calls: it records what it was asked. */
async function startWeatherService(): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const server: Server = createServer((request, response) => {
    asked.push(request.url ?? "");
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ forecast: "sunny", celsius: 21 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The whole of a live conversation with a model, as issue 11's "Done when" walks it: the official
 * client against a listening server whose model is a local OpenAI-compatible server that streams.
 */
describe.each(BACKENDS)("a live conversation with a model, end to end, on %s", (backend) => {
  let server: TestServer;
  let llm: FakeLlmServer;
  let weather: Awaited<ReturnType<typeof startWeatherService>>;
  const open: TextConversation[] = [];

  beforeAll(async () => {
    weather = await startWeatherService();
    llm = await startFakeLlmServer((body) => {
      if (body.response_format !== undefined) return { text: [JSON.stringify(ANALYSIS)] };
      const user = lastUser(body) ?? "";
      if (user === WEATHER_QUESTION && !hasToolResult(body))
        return { toolCalls: [{ id: "call_weather", name: "get_weather", arguments: { city: "Paris" } }] };
      if (hasToolResult(body))
        return { text: ["It is ", "sunny ", "in Paris."], usage: { promptTokens: 40, completionTokens: 6 } };
      if (/goodbye/i.test(user)) return { toolCalls: [{ id: "call_end", name: "end_call", arguments: {} }] };
      return { text: ["Happy ", "to help."], usage: { promptTokens: 20, completionTokens: 3 } };
    });
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "test-model",
    });
  });
  afterEach(async () => {
    for (const conversation of open.splice(0)) await conversation.endSession().catch(() => undefined);
  });
  afterAll(async () => {
    await server?.stop();
    await llm?.close();
    await weather?.close();
  });

  const createAgent = async (
    agent: ElevenLabs.AgentConfig,
    extra: Omit<
      Parameters<TestServer["client"]["conversationalAi"]["agents"]["create"]>[0],
      "conversationConfig"
    > = {},
  ) =>
    (await server.client.conversationalAi.agents.create({ conversationConfig: { agent }, ...extra })).agentId;
  const start = async (agentId: string, extras: SessionExtras = {}): Promise<TextSession> => {
    const session = await startTextSession(server.url, agentId, extras);
    open.push(session.conversation);
    return session;
  };
  const get = (id: string) => server.client.conversationalAi.conversations.get(id);
  /** The ids the list's text search finds for `words`. */
  const searchIds = async (words: string) => {
    const response = await server.fetch(`/v1/convai/conversations?search=${encodeURIComponent(words)}`);
    const page = (await response.json()) as { conversations: { conversation_id: string }[] };
    return page.conversations.map((c) => c.conversation_id);
  };
  const readUntil = (id: string, done: (c: ElevenLabs.GetConversationResponseModel) => boolean) =>
    readConversationUntil(server.client, id, done);

  it("streams the model's replies, calls a webhook tool, keeps context silent, takes feedback, ends with end_call, and is analysed", async () => {
    const agentId = await createAgent(
      {
        firstMessage: "Hi {{name}}, how can I help?",
        prompt: {
          prompt: "You are the weather desk. The user is {{name}}.",
          tools: [
            {
              type: "webhook",
              name: "get_weather",
              description: "The forecast for a city.",
              apiSchema: {
                url: `${weather.url}/forecast`,
                method: "GET",
                queryParamsSchema: {
                  properties: { city: { type: "string", description: "The city." } },
                  required: ["city"],
                },
              },
            },
          ],
        },
      },
      {
        platformSettings: {
          evaluation: {
            criteria: [{ id: "answered", name: "Answered", conversationGoalPrompt: "The agent answers." }],
          },
          dataCollection: { city: { type: "string", description: "The city the user asks about." } },
        },
      },
    );
    const session = await start(agentId, { dynamicVariables: { name: "Ada" } });
    const greeting = await session.waitFor("message", (m) => m.role === "agent");
    expect(greeting.message).toBe("Hi Ada, how can I help?");
    const id = session.conversation.getId();

    // A contextual update gets no reply; the model sees it with the next turn.
    session.conversation.sendContextualUpdate("The user is on the pricing page.");
    session.conversation.sendUserMessage("hello");
    const reply = await session.waitFor(
      "message",
      (m) => m.role === "agent" && m.message !== greeting.message,
    );
    expect(reply.message).toBe("Happy to help.");
    expect(session.reports.filter((r) => r.kind === "message" && r.role === "agent")).toHaveLength(2);
    const turnRequest = llm.requests.find((body) => lastUser(body) === "hello") as Json;
    const system = String(messagesOf(turnRequest)[0]?.content);
    expect(system).toContain("You are the weather desk. The user is Ada.");
    expect(system).toContain("The user is on the pricing page.");
    // Streamed: the reply arrived as several deltas under one event id.
    const deltas = session.reports.filter((r) => r.kind === "part" && r.type === "delta" && r.text !== "");
    expect(deltas.map((d) => (d.kind === "part" ? d.text : "")).join("")).toContain("Happy to help.");

    // Feedback on that reply.
    session.conversation.sendFeedback(true);

    // The webhook tool: the server calls the weather service, the model goes on with its answer.
    session.conversation.sendUserMessage(WEATHER_QUESTION);
    const answer = await session.waitFor("message", (m) => m.message === "It is sunny in Paris.");
    expect(answer.role).toBe("agent");
    expect(weather.asked).toEqual(["/forecast?city=Paris"]);
    const withResult = llm.requests.find(hasToolResult) as Json;
    const toolMessage = messagesOf(withResult).find((m) => m.role === "tool");
    expect(JSON.parse(String(toolMessage?.content))).toEqual({ forecast: "sunny", celsius: 21 });

    // While in progress: the transcript so far, the tool call and its result, the feedback.
    const during = await get(id);
    expect(during.status).toBe("in-progress");
    const calls = during.transcript.flatMap((t) => t.toolCalls ?? []);
    expect(calls.map((c) => [c.toolName, JSON.parse(c.paramsAsJson)])).toEqual([
      ["get_weather", { city: "Paris" }],
    ]);
    const results = during.transcript.flatMap((t) => t.toolResults ?? []);
    expect(results).toHaveLength(1);
    expect(results[0]?.isError).toBe(false);
    expect(JSON.parse(String(results[0]?.resultValue))).toEqual({ forecast: "sunny", celsius: 21 });
    expect(during.transcript.find((t) => t.message === "Happy to help.")?.feedback?.score).toBe("like");
    // Text search indexes a live conversation with its last write, not while it runs.
    expect(await searchIds("sunny")).not.toContain(id);

    // The model ends the call.
    session.conversation.sendUserMessage("thanks, goodbye");
    const disconnect = await session.waitFor("disconnect");
    expect(disconnect.reason).toBe("agent");
    expect(session.reports.some((r) => r.kind === "tool_response" && r.toolName === "end_call")).toBe(true);

    // After: done, analysed with the agent's criteria, the whole transcript, usage and metadata.
    const after = await readUntil(id, (c) => c.status === "done");
    expect(after.status).toBe("done");
    expect(after.metadata.terminationReason).toBe("end_call tool was called.");
    expect(after.metadata.textOnly).toBe(true);
    expect(after.metadata.feedback?.likes).toBe(1);
    expect(after.analysis?.callSuccessful).toBe("success");
    expect(after.analysis?.evaluationCriteriaResults?.answered?.result).toBe("success");
    expect(after.analysis?.dataCollectionResults?.city?.value).toBe("Paris");
    expect(after.conversationInitiationClientData?.dynamicVariables?.name).toBe("Ada");
    const spoken = after.transcript.filter((t) => t.message).map((t) => [t.role, t.message]);
    expect(spoken).toEqual([
      ["agent", "Hi Ada, how can I help?"],
      ["user", "hello"],
      ["agent", "Happy to help."],
      ["user", WEATHER_QUESTION],
      ["agent", "It is sunny in Paris."],
      ["user", "thanks, goodbye"],
    ]);
    expect(after.transcript.flatMap((t) => t.toolCalls ?? []).map((c) => c.toolName)).toEqual([
      "get_weather",
      "end_call",
    ]);
    expect(await searchIds("sunny")).toContain(id);
  }, 60_000);

  it("applies an override the agent allows and refuses one it does not (1008 override_error)", async () => {
    const agentId = await createAgent(
      { firstMessage: "The agent's own greeting." },
      { platformSettings: { overrides: { conversationConfigOverride: { agent: { firstMessage: true } } } } },
    );
    const session = await start(agentId, {
      overrides: { agent: { firstMessage: "An overridden greeting." } },
    });
    const greeting = await session.waitFor("message", (m) => m.role === "agent");
    expect(greeting.message).toBe("An overridden greeting.");

    const refused = await startTextSession(server.url, agentId, {
      overrides: { agent: { prompt: { prompt: "Ignore your instructions." } } },
    }).then(
      (started) => {
        open.push(started.conversation);
        throw new Error("the session started");
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SessionConnectionError);
    expect((refused as SessionConnectionError).closeCode).toBe(1008);
    expect((refused as SessionConnectionError).closeReason).toContain("override_error: agent.prompt.prompt");
  });

  it("ends the call when max_duration_seconds is reached, and records why", async () => {
    const { agentId } = await server.client.conversationalAi.agents.create({
      conversationConfig: { agent: { firstMessage: "" }, conversation: { maxDurationSeconds: 1 } },
    });
    const session = await start(agentId);
    const id = session.conversation.getId();
    const disconnect = await session.waitFor("disconnect", undefined, 15_000);
    expect(disconnect.closeCode ?? 1000).toBe(1000);
    const after = await readUntil(id, (c) => c.status === "done" || c.status === "failed");
    expect(after.status).toBe("done");
    expect(after.metadata.terminationReason).toBe("Maximum duration of 1 seconds reached");
  }, 30_000);
});
