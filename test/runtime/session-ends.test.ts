import { describe, expect, it } from "vitest";
import { BrainError, type BrainOutput } from "../../src/runtime/brain.js";
import { INIT, schemaProblems, startSession, text, toolCall, until } from "./session-harness.js";

const failing = (error: Error) =>
  async function* (): AsyncIterable<BrainOutput> {
    yield text("Let me ");
    throw error;
  };

describe("how a live session ends", () => {
  it("ends at max_duration_seconds: an error event max_duration_exceeded, then close 1000, recorded done", async () => {
    const { session, clock, frames, closes, last } = startSession({
      conversationConfig: { conversation: { max_duration_seconds: 30 } },
    });
    await session.handle(INIT);
    clock.advance(29_999);
    await session.settled();
    expect(closes).toEqual([]);
    clock.advance(1);
    await session.settled();
    const message = "Maximum duration of 30 seconds reached";
    expect(frames.at(-1)).toEqual({
      type: "error",
      error_event: { code: 1000, error_type: "max_duration_exceeded", message },
    });
    expect(closes).toEqual([{ code: 1000, reason: message }]);
    expect(last()).toMatchObject({
      status: "done",
      metadata: { termination_reason: message, call_duration_secs: 30 },
    });
    expect(session.state).toBe("ended");
  });

  it("ends at max_duration_seconds while a client tool call is waiting, and the waiting turn stops", async () => {
    const { session, clock, closes, sent } = startSession({
      conversationConfig: {
        conversation: { max_duration_seconds: 20 },
        agent: {
          prompt: {
            tools: [{ type: "client", name: "slow", expects_response: true, response_timeout_secs: 60 }],
          },
        },
      },
      scripts: [[toolCall("slow", "s_1")], [text("never said")]],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "go" });
    await until(() => sent("client_tool_call").length === 1, "the client_tool_call");
    clock.advance(20_000);
    await session.settled();
    expect(closes).toEqual([{ code: 1000, reason: expect.stringMatching(/Maximum duration/) }]);
    expect(sent("agent_response")).toEqual([]);
  });

  it("ends after silence_end_call_timeout without user activity; contextual updates are not activity", async () => {
    const { session, clock, closes, last } = startSession({
      conversationConfig: { turn: { silence_end_call_timeout: 10 } },
      scripts: [[text("Hi.")]],
    });
    await session.handle(INIT);
    clock.advance(9_000);
    await session.handle({ type: "user_activity" });
    clock.advance(9_000);
    await session.handle({ type: "user_message", text: "hello" });
    await session.settled();
    clock.advance(9_999);
    await session.handle({ type: "contextual_update", text: "the user scrolled" });
    await session.settled();
    expect(closes).toEqual([]);
    clock.advance(1);
    await session.settled();
    expect(closes).toEqual([{ code: 1000, reason: "No user activity for 10 seconds" }]);
    expect(last()).toMatchObject({
      status: "done",
      metadata: { termination_reason: "No user activity for 10 seconds (silence_end_call_timeout)" },
    });
  });

  it("does not end for silence while the agent is still answering", async () => {
    const { session, clock, closes, sent } = startSession({
      conversationConfig: {
        turn: { silence_end_call_timeout: 10 },
        agent: {
          prompt: {
            tools: [{ type: "client", name: "slow", expects_response: true, response_timeout_secs: 25 }],
          },
        },
      },
      scripts: [[toolCall("slow", "s_1")], [text("Done.")]],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "go" });
    await until(() => sent("client_tool_call").length === 1, "the client_tool_call");
    clock.advance(20_000);
    await until(() => true, "");
    expect(closes).toEqual([]);
    await session.handle({ type: "client_tool_result", tool_call_id: "s_1", result: "ok", is_error: false });
    await session.settled();
    expect(sent("agent_response").map((f) => f.agent_response_event.agent_response)).toEqual(["Done."]);
    clock.advance(10_000);
    await session.settled();
    expect(closes).toEqual([{ code: 1000, reason: "No user activity for 10 seconds" }]);
  });

  it("reports a model failure with an error event of its type, then closes 1002, recorded failed", async () => {
    const { session, frames, closes, last } = startSession({
      scripts: [failing(new BrainError("The model answered 500", "llm_error"))],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "hello" });
    await session.settled();
    expect(frames.at(-1)).toEqual({
      type: "error",
      error_event: { code: 1002, error_type: "llm_error", message: "The model answered 500" },
    });
    expect(closes).toEqual([{ code: 1002, reason: "The model failed: The model answered 500" }]);
    expect(last()).toMatchObject({
      status: "failed",
      metadata: {
        termination_reason: "The model failed: The model answered 500",
        error: { code: 1002, reason: "The model failed: The model answered 500" },
      },
    });
    expect(schemaProblems(last())).toEqual([]);
  });

  it("reports a model timeout as llm_timeout", async () => {
    const { session, sent, closes } = startSession({
      scripts: [failing(new BrainError("No answer within 20 s", "llm_timeout"))],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "hello" });
    await session.settled();
    expect(sent("error")[0]?.error_event.error_type).toBe("llm_timeout");
    expect(closes[0]?.code).toBe(1002);
  });

  it("ends anything unexpected with 1011, reported to onError, recorded failed", async () => {
    const boom = new Error("boom");
    const { session, sent, closes, errors, last } = startSession({ scripts: [failing(boom)] });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "hello" });
    await session.settled();
    expect(errors).toEqual([boom]);
    expect(sent("error")[0]?.error_event).toMatchObject({
      code: 1011,
      error_type: "unknown_websocket_crash",
    });
    expect(closes).toEqual([{ code: 1011, reason: "Internal error: the conversation could not continue" }]);
    expect(last()).toMatchObject({ status: "failed", metadata: { error: { code: 1011 } } });
  });

  it("tells a started client why a frame was refused before closing 1008", async () => {
    const { session, frames, closes } = startSession();
    await session.handle(INIT);
    await session.refuse("Invalid message: frames must be JSON objects");
    expect(frames.at(-1)).toEqual({
      type: "error",
      error_event: {
        code: 1008,
        error_type: "invalid_message",
        message: "Invalid message: frames must be JSON objects",
      },
    });
    expect(closes).toEqual([{ code: 1008, reason: "Invalid message: frames must be JSON objects" }]);
  });
});
