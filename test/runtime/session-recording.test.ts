import { describe, expect, it } from "vitest";
import type { BrainOutput } from "../../src/runtime/brain.js";
import { ConversationRecorder, SAVE_SOON_MS } from "../../src/runtime/conversation-recorder.js";
import {
  INIT,
  schemaProblems,
  startSession,
  text,
  toolCall,
  transcriptOf,
  until,
} from "./session-harness.js";

const usage = (inputTokens: number, outputTokens: number, model = "model-a"): BrainOutput => ({
  type: "usage",
  usage: { model, inputTokens, outputTokens },
});

const NOTIFY = {
  agent: { language: "de", prompt: { tools: [{ type: "client", name: "notify", expects_response: false }] } },
};

type Json = Record<string, unknown>;

describe("what a live session records", () => {
  it("records token usage per agent entry and in metadata.charging, the language and text mode", async () => {
    const { session, last } = startSession({
      conversationConfig: NOTIFY,
      scripts: [
        [text("Hi."), usage(100, 7)],
        [toolCall("notify", "n_1"), usage(50, 3)],
        [text("Done."), usage(60, 2, "model-b")],
      ],
    });
    await session.handle({
      type: "conversation_initiation_client_data",
      conversation_config_override: { conversation: { text_only: true } },
    });
    await session.handle({ type: "user_message", text: "one" });
    await session.settled();
    await session.handle({ type: "user_message", text: "two" });
    await session.settled();
    const doc = last();
    const transcript = transcriptOf(doc);
    expect(transcript.map((e) => e.llm_usage)).toEqual([
      undefined,
      { model_usage: { "model-a": { input: { tokens: 100 }, output_total: { tokens: 7 } } } },
      undefined,
      { model_usage: { "model-a": { input: { tokens: 50 }, output_total: { tokens: 3 } } } },
      undefined,
      { model_usage: { "model-b": { input: { tokens: 60 }, output_total: { tokens: 2 } } } },
    ]);
    const totals = {
      "model-a": { input: { tokens: 150 }, output_total: { tokens: 10 } },
      "model-b": { input: { tokens: 60 }, output_total: { tokens: 2 } },
    };
    expect((doc.metadata as Json).charging).toEqual({
      llm_usage: {
        initiated_generation: { model_usage: totals },
        irreversible_generation: { model_usage: totals },
      },
    });
    expect(doc.metadata).toMatchObject({ main_language: "de", text_only: true });
    expect(schemaProblems(doc)).toEqual([]);
  });

  it("counts an interrupted response's tokens as initiated only", async () => {
    const interrupted = async function* (signal: AbortSignal): AsyncIterable<BrainOutput> {
      yield text("Well");
      yield usage(40, 1);
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    };
    const { session, sent, last } = startSession({ scripts: [interrupted, [text("Yes?"), usage(10, 2)]] });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "one" });
    await until(() => sent("agent_chat_response_part").length === 2, "the first delta");
    await session.handle({ type: "user_message", text: "wait" });
    await session.settled();
    expect((last().metadata as Json).charging).toEqual({
      llm_usage: {
        initiated_generation: {
          model_usage: { "model-a": { input: { tokens: 50 }, output_total: { tokens: 3 } } },
        },
        irreversible_generation: {
          model_usage: { "model-a": { input: { tokens: 10 }, output_total: { tokens: 2 } } },
        },
      },
    });
  });

  it("goes initiated, in-progress, then processing before post-call work, and never writes after it", async () => {
    const order: string[] = [];
    let writesAtPostCall = -1;
    const harness = startSession({
      scripts: [[text("Bye."), toolCall("end_call", "e_1")]],
      lifecycle: {
        started: async (id) => {
          order.push(
            `started ${id} after ${harness.written.length} write(s), ${harness.frames.length} frame(s)`,
          );
        },
        ended: async (id) => {
          order.push(`ended ${id}`);
        },
      },
      postCall: async (id) => {
        writesAtPostCall = harness.written.length;
        order.push(`postCall ${id}`);
      },
    });
    const { session, written } = harness;
    const id = session.conversationId;
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "bye" });
    await session.settled();
    await session.transportClosed(1000, "User ended conversation");
    await session.handle({ type: "feedback", score: "like" });
    await session.settled();
    expect(order).toEqual([`started ${id} after 0 write(s), 0 frame(s)`, `postCall ${id}`, `ended ${id}`]);
    expect(writesAtPostCall).toBe(written.length);
    const statuses = written.map((doc) => doc.status);
    expect(statuses[0]).toBe("initiated");
    expect(statuses.at(-1)).toBe("processing");
    expect(new Set(statuses.slice(1, -1))).toEqual(new Set(["in-progress"]));
    expect(written.at(-1)).toMatchObject({ metadata: { termination_reason: "end_call tool was called." } });
  });

  it("runs post-call work when the user hangs up, but not for a failed session", async () => {
    const calls: string[] = [];
    const good = startSession({ postCall: async (id) => void calls.push(id) });
    await good.session.handle(INIT);
    await good.session.transportClosed(1000, "User ended conversation");
    await good.session.settled();
    expect(calls).toEqual([good.session.conversationId]);
    expect(good.last()).toMatchObject({ status: "processing" });

    const ended: string[] = [];
    const bad = startSession({
      postCall: async (id) => void calls.push(id),
      lifecycle: { started: async () => undefined, ended: async (id) => void ended.push(id) },
    });
    await bad.session.handle(INIT);
    await bad.session.transportClosed(1006, "");
    await bad.session.settled();
    expect(calls).toHaveLength(1);
    expect(bad.last()).toMatchObject({ status: "failed" });
    expect(ended).toEqual([bad.session.conversationId]);
  });

  it("leaves a session whose last write failed registered: no post-call work, no lifecycle end", async () => {
    const ended: string[] = [];
    const postCalls: string[] = [];
    let fail = false;
    const { session, errors } = startSession({
      writeFails: () => fail,
      postCall: async (id) => void postCalls.push(id),
      lifecycle: { started: async () => undefined, ended: async (id) => void ended.push(id) },
    });
    await session.handle(INIT);
    fail = true;
    await session.transportClosed(1000, "User ended conversation");
    await session.settled();
    expect(postCalls).toEqual([]);
    expect(ended).toEqual([]);
    expect(errors).toEqual([new Error("The store is unavailable")]);
  });
});

describe("the conversation recorder", () => {
  it("writes nothing after its last write", async () => {
    const writes: Json[] = [];
    const recorder = new ConversationRecorder(
      {
        // Copies, as a real store serializes what it writes at once.
        putConversation: async (body) => void writes.push(structuredClone(body) as Json) as never,
        changeConversation: async (_id, change) =>
          void writes.push(structuredClone(change(structuredClone(writes.at(-1) ?? {})))) as never,
      },
      {
        conversationId: "conv_x",
        agentId: "agent_x",
        startMs: 0,
        textOnly: true,
        mainLanguage: "en",
        clientData: { type: "conversation_initiation_client_data" },
        dynamicVariables: {},
      },
      () => 5_000,
    );
    await recorder.save();
    recorder.finish("done", "finished");
    await recorder.save();
    recorder.appendTurn("user", "too late");
    await recorder.save();
    expect(writes.map((doc) => doc.status)).toEqual(["initiated", "done"]);
    expect(transcriptOf(writes.at(-1) as Json)).toEqual([]);
  });

  it("the schema check used by these tests catches a tool call without a required key", () => {
    const doc = {
      agent_id: "a",
      conversation_id: "c",
      status: "done",
      metadata: { start_time_unix_secs: 0, call_duration_secs: 0 },
      transcript: [
        {
          role: "agent",
          time_in_call_secs: 0,
          tool_calls: [{ request_id: "r", tool_name: "t", tool_has_been_called: true }],
        },
      ],
    };
    expect(schemaProblems(doc).length).toBeGreaterThan(0);
  });
});

describe("how often a live session writes", () => {
  it("writes a user's message with the agent's reply: one write per answered message, and the model is asked before any write", async () => {
    let writesWhenAsked = -1;
    const { session, written } = startSession({
      brain: {
        openingMessage: () => "",
        respond: async function* () {
          writesWhenAsked = written.length;
          yield text("Sure.");
        },
      },
    });
    await session.handle(INIT);
    const afterStart = written.length;
    await session.handle({ type: "user_message", text: "one" });
    await session.settled();
    expect(writesWhenAsked).toBe(afterStart);
    expect(written.length).toBe(afterStart + 1);
    expect(transcriptOf(written.at(-1) as Json).map((e) => e.message)).toEqual(["one", "Sure."]);
  });

  it("writes a user's message on its own within SAVE_SOON_MS when no reply comes first", async () => {
    const { session, written, clock } = startSession({
      brain: {
        openingMessage: () => "",
        respond: (_context, signal) =>
          (async function* () {
            // A model that has not answered yet.
            await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
          })(),
      },
    });
    await session.handle(INIT);
    const afterStart = written.length;
    await session.handle({ type: "user_message", text: "anyone there?" });
    expect(written.length).toBe(afterStart);
    clock.advance(SAVE_SOON_MS);
    await until(() => written.length === afterStart + 1, "the user's message written");
    expect(transcriptOf(written.at(-1) as Json).map((e) => e.message)).toEqual(["anyone there?"]);
  });
});
