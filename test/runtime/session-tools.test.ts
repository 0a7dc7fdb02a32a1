import { describe, expect, it } from "vitest";
import { MAX_TOOL_ROUNDS, TOO_MANY_TOOL_ROUNDS } from "../../src/runtime/agent-turn.js";
import type { AgentTool } from "../../src/runtime/brain.js";
import { CLIENT_TOOL_CALLED } from "../../src/runtime/tool-runner.js";
import type { WebhookToolLimits } from "../../src/runtime/webhook-tool.js";
import {
  INIT,
  type Script,
  type ScriptedBrain,
  schemaProblems,
  startSession,
  text,
  toolCall,
  transcriptOf,
  until,
} from "./session-harness.js";

const TOOLS = {
  agent: {
    prompt: {
      tools: [
        {
          type: "client",
          name: "open_page",
          description: "Opens a page of the app",
          expects_response: true,
          response_timeout_secs: 5,
          parameters: { type: "object", properties: { page: { type: "string", description: "The page" } } },
        },
        { type: "client", name: "notify", description: "Shows a notice", expects_response: false },
        {
          type: "webhook",
          name: "weather",
          description: "The weather in a city",
          response_timeout_secs: 30,
          api_schema: {
            url: "https://weather.example/now",
            method: "GET",
            query_params_schema: { properties: { city: { type: "string", description: "The city" } } },
          },
        },
      ],
    },
  },
};

/** A session on the tool agent, started, with the user's message sent. */
async function askWithTools(scripts: Script[], extra: Parameters<typeof startSession>[0] = {}) {
  const harness = startSession({ conversationConfig: TOOLS, scripts, ...extra });
  await harness.session.handle(INIT);
  await harness.session.handle({ type: "user_message", text: "please help" });
  return { ...harness, brain: harness.brain as ScriptedBrain };
}

describe("tool calls in a live session", () => {
  it("sends a client tool call, waits for its result, and lets the model continue with it", async () => {
    const { session, brain, sent, last } = await askWithTools([
      [text("Let me look."), toolCall("open_page", "call_1", { page: "pricing" })],
      [text("The pricing page says 42.")],
    ]);
    await until(() => sent("client_tool_call").length === 1, "the client_tool_call");
    const [first] = sent("agent_response");
    const [call] = sent("client_tool_call");
    expect(call?.client_tool_call).toEqual({
      tool_name: "open_page",
      tool_call_id: "call_1",
      parameters: { page: "pricing" },
      event_id: first?.agent_response_event.event_id,
    });
    expect(session.state).toBe("responding");
    expect(brain.asked).toHaveLength(1);

    await session.handle({
      type: "client_tool_result",
      tool_call_id: "call_1",
      result: "42",
      is_error: false,
    });
    await session.settled();
    expect(brain.asked[1]?.slice(-2)).toEqual([
      {
        role: "agent",
        message: "Let me look.",
        toolCalls: [{ toolCallId: "call_1", toolName: "open_page", parameters: { page: "pricing" } }],
      },
      { role: "tool", toolCallId: "call_1", toolName: "open_page", result: "42", isError: false },
    ]);
    expect(sent("agent_response").map((f) => f.agent_response_event.agent_response)).toEqual([
      "Let me look.",
      "The pricing page says 42.",
    ]);
    const transcript = transcriptOf(last());
    // As upstream records a turn with tools: the words, the calls, the results, each an entry.
    expect(transcript.map((entry) => [entry.role, entry.message])).toEqual([
      ["user", "please help"],
      ["agent", "Let me look."],
      ["agent", null],
      ["agent", null],
      ["agent", "The pricing page says 42."],
    ]);
    expect(transcript[1]?.tool_calls).toBeUndefined();
    expect(transcript[2]?.tool_calls).toEqual([
      {
        request_id: "call_1",
        tool_name: "open_page",
        params_as_json: '{"page":"pricing"}',
        tool_has_been_called: true,
        type: "client",
        tool_details: { type: "client", parameters: '{"page":"pricing"}' },
      },
    ]);
    expect(transcript[3]?.tool_results).toEqual([
      expect.objectContaining({
        request_id: "call_1",
        tool_name: "open_page",
        result_value: "42",
        is_error: false,
        tool_has_been_called: true,
        type: "client",
      }),
    ]);
    expect(schemaProblems(last())).toEqual([]);
    expect(session.state).toBe("listening");
  });

  it("does not wait for a client tool that expects no response, and neither feeds nor records a result sent anyway", async () => {
    const { session, brain, sent, last } = await askWithTools([
      [toolCall("notify", "n_1")],
      [text("Noted.")],
    ]);
    await session.settled();
    expect(sent("client_tool_call").map((f) => f.client_tool_call.tool_call_id)).toEqual(["n_1"]);
    expect(brain.asked[1]?.at(-1)).toEqual({
      role: "tool",
      toolCallId: "n_1",
      toolName: "notify",
      result: CLIENT_TOOL_CALLED,
      isError: false,
    });
    await session.handle({
      type: "client_tool_result",
      tool_call_id: "n_1",
      result: "shown",
      is_error: false,
    });
    await session.settled();
    expect(brain.asked).toHaveLength(2);
    // The call's result is the one recorded when it was made; the answer sent anyway is dropped.
    const results = transcriptOf(last()).flatMap((e) => (e.tool_results as Record<string, unknown>[]) ?? []);
    expect(results).toEqual([
      expect.objectContaining({ request_id: "n_1", result_value: CLIENT_TOOL_CALLED, type: "client" }),
    ]);
    // A result for a call that was never made is ignored.
    const entries = transcriptOf(last()).length;
    await session.handle({ type: "client_tool_result", tool_call_id: "nope", result: "x", is_error: false });
    await session.settled();
    expect(transcriptOf(last())).toHaveLength(entries);
    expect(schemaProblems(last())).toEqual([]);
  });

  it("feeds the model an error when the client does not answer within response_timeout_secs", async () => {
    const { session, clock, brain, sent, last } = await askWithTools([
      [toolCall("open_page", "call_2", { page: "home" })],
      [text("The app did not answer.")],
    ]);
    await until(() => sent("client_tool_call").length === 1, "the client_tool_call");
    clock.advance(4_999);
    await until(() => true, "");
    expect(brain.asked).toHaveLength(1);
    clock.advance(1);
    await session.settled();
    expect(brain.asked[1]?.at(-1)).toEqual({
      role: "tool",
      toolCallId: "call_2",
      toolName: "open_page",
      result: "The client did not answer within 5 s.",
      isError: true,
    });
    expect(transcriptOf(last()).at(-2)?.tool_results).toEqual([
      expect.objectContaining({ request_id: "call_2", is_error: true, tool_has_been_called: true }),
    ]);
  });

  it("runs a webhook tool through the runner within limits, telling the client with agent_tool_request and agent_tool_response", async () => {
    const runs: { tool: AgentTool; parameters: Record<string, unknown>; limits: WebhookToolLimits }[] = [];
    const { session, brain, frames, sent, last } = await askWithTools(
      [[toolCall("weather", "w_1", { city: "Oslo" })], [text("It is 21 degrees.")]],
      {
        runWebhookTool: async (tool, parameters, limits) => {
          runs.push({ tool, parameters, limits });
          return { result: '{"temp":21}', isError: false };
        },
      },
    );
    await session.settled();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.tool.name).toBe("weather");
    expect(runs[0]?.parameters).toEqual({ city: "Oslo" });
    expect(runs[0]?.limits).toEqual({ timeoutMs: 20_000, maxResponseBytes: 1024 * 1024 });
    const toolFrames = frames.filter(
      (f) => f.type === "agent_tool_request" || f.type === "agent_tool_response",
    );
    const eventId = sent("agent_tool_request")[0]?.agent_tool_request.event_id;
    expect(toolFrames).toEqual([
      {
        type: "agent_tool_request",
        agent_tool_request: {
          tool_name: "weather",
          tool_call_id: "w_1",
          tool_type: "webhook",
          event_id: eventId,
        },
      },
      {
        type: "agent_tool_response",
        agent_tool_response: {
          tool_name: "weather",
          tool_call_id: "w_1",
          tool_type: "webhook",
          event_id: eventId,
          is_error: false,
          is_called: true,
        },
      },
    ]);
    expect(brain.asked[1]?.at(-1)).toMatchObject({ role: "tool", result: '{"temp":21}', isError: false });
    const transcript = transcriptOf(last());
    expect(transcript[1]?.tool_calls).toEqual([
      expect.objectContaining({
        type: "webhook",
        tool_details: { type: "webhook", method: "GET", url: "https://weather.example/now" },
      }),
    ]);
    expect(schemaProblems(last())).toEqual([]);
  });

  it("reports a failed webhook call as an error result, to the client and the model", async () => {
    const { session, brain, sent } = await askWithTools(
      [[toolCall("weather", "w_2", { city: "Oslo" })], [text("The weather service failed.")]],
      { runWebhookTool: async () => ({ result: "The webhook answered 503", isError: true }) },
    );
    await session.settled();
    expect(sent("agent_tool_response")[0]?.agent_tool_response.is_error).toBe(true);
    expect(brain.asked[1]?.at(-1)).toMatchObject({ result: "The webhook answered 503", isError: true });
  });

  it("answers a call of a tool the agent does not have with an error result, and runs nothing", async () => {
    const { session, brain, frames, last } = await askWithTools([
      [toolCall("launch_rocket", "r_1", { target: "moon" })],
      [text("I cannot do that.")],
    ]);
    await session.settled();
    const result = brain.asked[1]?.at(-1);
    expect(result).toMatchObject({ role: "tool", toolCallId: "r_1", isError: true });
    expect(result?.role === "tool" ? result.result : "").toMatch(/no tool named launch_rocket.*open_page/);
    expect(frames.some((f) => f.type === "client_tool_call" || f.type === "agent_tool_request")).toBe(false);
    const transcript = transcriptOf(last());
    expect(transcript[1]?.tool_calls).toEqual([
      {
        request_id: "r_1",
        tool_name: "launch_rocket",
        params_as_json: '{"target":"moon"}',
        tool_has_been_called: false,
      },
    ]);
    expect(transcript[2]?.tool_results).toEqual([
      expect.objectContaining({ request_id: "r_1", is_error: true, tool_has_been_called: false }),
    ]);
    expect(schemaProblems(last())).toEqual([]);
  });

  it("ends the call on end_call: recorded first, then agent_tool_response, then close 1000", async () => {
    const { session, frames, closes, written, last } = await askWithTools([
      [text("Goodbye!"), toolCall("end_call", "e_1", { reason: "the user is done" })],
    ]);
    await session.settled();
    expect(frames.at(-1)).toEqual({
      type: "agent_tool_response",
      agent_tool_response: {
        tool_name: "end_call",
        tool_call_id: "e_1",
        tool_type: "system",
        event_id: expect.any(Number),
        is_error: false,
        is_called: true,
      },
    });
    expect(closes).toEqual([{ code: 1000, reason: "Agent ended the call" }]);
    expect(last()).toMatchObject({
      status: "done",
      metadata: { termination_reason: "end_call tool was called." },
    });
    const transcript = transcriptOf(last());
    expect(transcript[1]).toMatchObject({ message: "Goodbye!" });
    expect(transcript[2]).toMatchObject({
      message: null,
      tool_calls: [{ request_id: "e_1", tool_name: "end_call", type: "system", tool_has_been_called: true }],
    });
    const result = { result_type: "end_call_success", status: "success", reason: "the user is done" };
    expect(transcript[3]?.tool_results).toEqual([
      expect.objectContaining({
        tool_name: "end_call",
        type: "system",
        is_error: false,
        result,
        result_value: JSON.stringify(result),
      }),
    ]);
    expect(schemaProblems(last())).toEqual([]);
    const writes = written.length;
    await session.transportClosed(1000, "User ended conversation");
    expect(written).toHaveLength(writes);
  });

  it(`stops asking the model after ${MAX_TOOL_ROUNDS} rounds of tool calls, with an error result for the last calls`, async () => {
    const scripts: Script[] = Array.from({ length: MAX_TOOL_ROUNDS + 2 }, (_, i) => [
      toolCall("notify", `n_${i}`),
    ]);
    const { session, brain, sent, last } = await askWithTools(scripts);
    await session.settled();
    expect(brain.asked).toHaveLength(MAX_TOOL_ROUNDS);
    expect(sent("client_tool_call")).toHaveLength(MAX_TOOL_ROUNDS - 1);
    expect(transcriptOf(last()).at(-1)?.tool_results).toEqual([
      expect.objectContaining({
        request_id: `n_${MAX_TOOL_ROUNDS - 1}`,
        result_value: TOO_MANY_TOOL_ROUNDS,
        is_error: true,
        tool_has_been_called: false,
      }),
    ]);
    expect(session.state).toBe("listening");
  });
});
