import { describe, expect, it } from "vitest";
import { INTERRUPTED_TOOL_CALL } from "../../src/runtime/agent-turn.js";
import type { BrainOutput } from "../../src/runtime/brain.js";
import {
  INIT,
  type ScriptedBrain,
  schemaProblems,
  startSession,
  text,
  toolCall,
  transcriptOf,
  until,
} from "./session-harness.js";

/** Resolves when the signal aborts, as a model client stops reading its stream. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

const CLIENT_TOOL = {
  agent: {
    prompt: {
      tools: [{ type: "client", name: "open_page", expects_response: true, response_timeout_secs: 30 }],
    },
  },
};

describe("interrupting the agent in a live session", () => {
  it("aborts a streaming reply on a new user message: interruption, correction, the truncated turn recorded, then the new answer", async () => {
    let signalSeen: AbortSignal | undefined;
    const streaming = async function* (signal: AbortSignal): AsyncIterable<BrainOutput> {
      signalSeen = signal;
      yield text("Hello ");
      yield text("there, ");
      await aborted(signal);
      yield text("friend.");
    };
    const { session, frames, sent, brain, last } = startSession({ scripts: [streaming, [text("Sure.")]] });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "hi" });
    await until(
      () => sent("agent_chat_response_part").some((f) => f.text_response_part.text === "there, "),
      "the second delta",
    );
    const eventId = sent("agent_chat_response_part")[0]?.text_response_part.event_id;

    await session.handle({ type: "user_message", text: "stop" });
    await session.settled();
    expect(signalSeen?.aborted).toBe(true);
    const interruption = frames.findIndex((f) => f.type === "interruption");
    expect(frames.slice(interruption, interruption + 2)).toEqual([
      { type: "interruption", interruption_event: { event_id: eventId } },
      {
        type: "agent_response_correction",
        agent_response_correction_event: {
          original_agent_response: "Hello there, ",
          corrected_agent_response: "Hello there, ",
          event_id: eventId,
        },
      },
    ]);
    // Nothing more for the interrupted turn: no "friend.", no stop, no agent_response.
    const afterwards = frames.slice(interruption + 2);
    expect(afterwards.some((f) => JSON.stringify(f).includes("friend."))).toBe(false);
    expect(sent("agent_response").map((f) => f.agent_response_event.agent_response)).toEqual(["Sure."]);
    expect(sent("agent_response")[0]?.agent_response_event.event_id).toBeGreaterThan(eventId ?? 0);

    expect((brain as ScriptedBrain).asked[1]).toEqual([
      { role: "user", message: "hi" },
      { role: "agent", message: "Hello there, " },
      { role: "user", message: "stop" },
    ]);
    const transcript = transcriptOf(last());
    expect(transcript.map((e) => [e.role, e.message, e.interrupted])).toEqual([
      ["user", "hi", undefined],
      ["agent", "Hello there, ", true],
      ["user", "stop", undefined],
      ["agent", "Sure.", undefined],
    ]);
    expect(schemaProblems(last())).toEqual([]);
    expect(session.state).toBe("listening");
  });

  it("interrupts a turn waiting for a client tool: the call gets an error result, a late result is dropped", async () => {
    const { session, sent, brain, frames, last } = startSession({
      conversationConfig: CLIENT_TOOL,
      scripts: [[toolCall("open_page", "c_1")], [text("OK, never mind.")]],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "open the page" });
    await until(() => sent("client_tool_call").length === 1, "the client_tool_call");
    const eventId = sent("client_tool_call")[0]?.client_tool_call.event_id;

    await session.handle({ type: "user_message", text: "forget it" });
    await session.settled();
    expect(sent("interruption")).toEqual([
      { type: "interruption", interruption_event: { event_id: eventId } },
    ]);
    expect(frames.some((f) => f.type === "agent_response_correction")).toBe(false);
    expect((brain as ScriptedBrain).asked[1]?.slice(1)).toEqual([
      {
        role: "agent",
        message: "",
        toolCalls: [{ toolCallId: "c_1", toolName: "open_page", parameters: {} }],
      },
      {
        role: "tool",
        toolCallId: "c_1",
        toolName: "open_page",
        result: INTERRUPTED_TOOL_CALL,
        isError: true,
      },
      { role: "user", message: "forget it" },
    ]);

    await session.handle({
      type: "client_tool_result",
      tool_call_id: "c_1",
      result: "opened",
      is_error: false,
    });
    await session.settled();
    expect((brain as ScriptedBrain).asked).toHaveLength(2);
    const transcript = transcriptOf(last());
    expect(transcript.map((e) => [e.role, e.message])).toEqual([
      ["user", "open the page"],
      ["agent", null],
      ["agent", null],
      ["user", "forget it"],
      ["agent", "OK, never mind."],
    ]);
    // The call already has its recorded result: the late answer is not recorded as a second one.
    expect(transcript[2]?.tool_results).toEqual([
      expect.objectContaining({ request_id: "c_1", result_value: INTERRUPTED_TOOL_CALL, is_error: true }),
    ]);
    expect(schemaProblems(last())).toEqual([]);
  });

  it("aborts a running webhook call on interruption and tells the client nothing more about it", async () => {
    let webhookSignal: AbortSignal | undefined;
    const { session, sent, brain } = startSession({
      conversationConfig: {
        agent: {
          prompt: {
            tools: [{ type: "webhook", name: "lookup", api_schema: { url: "https://hook.example/x" } }],
          },
        },
      },
      scripts: [[toolCall("lookup", "w_1")], [text("Asked again.")]],
      runWebhookTool: async (_tool, _parameters, _limits, signal) => {
        webhookSignal = signal;
        await aborted(signal);
        return { result: "aborted", isError: true };
      },
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "look it up" });
    await until(() => webhookSignal !== undefined, "the webhook call");
    await session.handle({ type: "user_message", text: "no, wait" });
    await session.settled();
    expect(webhookSignal?.aborted).toBe(true);
    expect(sent("agent_tool_request")).toHaveLength(1);
    expect(sent("agent_tool_response")).toEqual([]);
    expect((brain as ScriptedBrain).asked[1]?.at(-2)).toMatchObject({
      role: "tool",
      toolCallId: "w_1",
      result: INTERRUPTED_TOOL_CALL,
    });
  });

  it("does not cut a reply that was streamed whole: its agent_response goes out, no interruption", async () => {
    let hold: Promise<void> = Promise.resolve();
    let release = () => undefined as unknown;
    const { session, sent, frames } = startSession({
      scripts: [[text("Whole answer.")], [text("Next.")]],
      writeWaits: () => hold,
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "first" });
    hold = new Promise((resolve) => {
      release = resolve;
    });
    // The reply is streamed to its stop; its record is being written when the next message comes.
    await until(
      () => sent("agent_chat_response_part").some((f) => f.text_response_part.type === "stop"),
      "the stop part",
    );
    const next = session.handle({ type: "user_message", text: "second" });
    await until(() => sent("agent_response").length === 1, "the first agent_response");
    release();
    await next;
    await session.settled();
    expect(sent("agent_response").map((f) => f.agent_response_event.agent_response)).toEqual([
      "Whole answer.",
      "Next.",
    ]);
    expect(frames.some((f) => f.type === "interruption" || f.type === "agent_response_correction")).toBe(
      false,
    );
  });

  it("does not interrupt a reply that is over", async () => {
    const { session, frames } = startSession({ scripts: [[text("One.")], [text("Two.")]] });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "first" });
    await session.settled();
    await session.handle({ type: "user_message", text: "second" });
    await session.settled();
    expect(frames.some((f) => f.type === "interruption" || f.type === "agent_response_correction")).toBe(
      false,
    );
  });
});
