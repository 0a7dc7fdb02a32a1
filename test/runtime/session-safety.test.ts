import { describe, expect, it } from "vitest";
import type { BrainOutput } from "../../src/runtime/brain.js";
import { parseClientFrame } from "../../src/runtime/client-frames.js";
import { CLIENT_TOOL_CALLED } from "../../src/runtime/tool-runner.js";
import type { WebhookCallContext } from "../../src/runtime/webhook-tool.js";
import {
  INIT,
  type ScriptedBrain,
  startSession,
  text,
  toolCall,
  transcriptOf,
  until,
} from "./session-harness.js";

type Json = Record<string, unknown>;

const SECRET_INIT = {
  type: "conversation_initiation_client_data",
  conversation_config_override: {},
  dynamic_variables: { secret__token: "tok-4f9a-hidden", customer: "Ann" },
} as const;

const TOOLS = {
  agent: {
    prompt: {
      tools: [
        { type: "client", name: "notify", description: "Shows a notice", expects_response: false },
        {
          type: "webhook",
          name: "lookup",
          description: "Looks the customer up",
          api_schema: {
            url: "https://crm.example/lookup",
            method: "POST",
            request_headers: { Authorization: "Bearer {{secret__token}}" },
            request_body_schema: {
              type: "object",
              properties: { customer: { type: "string", dynamic_variable: "customer" } },
            },
          },
        },
      ],
    },
  },
};

/** A model response that streams some text and then waits until it is aborted. */
const endless = (words: string) =>
  async function* (signal: AbortSignal): AsyncIterable<BrainOutput> {
    yield text(words);
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  };

describe("secret dynamic variables", () => {
  it("never records a secret__ variable nor shows it to the model", async () => {
    const { session, written, brain } = startSession({ scripts: [[text("Hello Ann.")]] });
    await session.handle(SECRET_INIT);
    await session.handle({ type: "user_message", text: "hi" });
    await session.settled();
    expect(written.length).toBeGreaterThan(0);
    expect(JSON.stringify(written)).not.toContain("tok-4f9a-hidden");
    const recorded = ((written[0] as Json).conversation_initiation_client_data as Json)
      .dynamic_variables as Json;
    expect(recorded.customer).toBe("Ann");
    expect(recorded).not.toHaveProperty("secret__token");
    const seen = (brain as ScriptedBrain).contexts[0]?.dynamicVariables;
    expect(seen?.customer).toBe("Ann");
    expect(seen).not.toHaveProperty("secret__token");
  });
});

describe("webhook tools and the session's variables", () => {
  it("hands the webhook runner every session variable, secrets included", async () => {
    const contexts: (WebhookCallContext | undefined)[] = [];
    const { session } = startSession({
      conversationConfig: TOOLS,
      scripts: [[toolCall("lookup", "w_1")], [text("Found you.")]],
      runWebhookTool: async (_tool, _params, _limits, _signal, context) => {
        contexts.push(context);
        return { result: "ok", isError: false };
      },
    });
    await session.handle(SECRET_INIT);
    await session.handle({ type: "user_message", text: "who am I" });
    await session.settled();
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.dynamicVariables).toMatchObject({
      customer: "Ann",
      secret__token: "tok-4f9a-hidden",
    });
  });
});

describe("end_call against a user message", () => {
  it("ends the call once end_call is decided, even when a user message arrives while its result is written", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const { session, closes, last } = startSession({
      scripts: [[toolCall("end_call", "e_1")], [text("Still here!")]],
      writeWaits: async (body) => {
        const results = transcriptOf(body).flatMap((e) => (e.tool_results as Json[] | undefined) ?? []);
        if (body.status !== "done" && results.some((r) => r.tool_name === "end_call")) {
          holding = true;
          await held;
        }
      },
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "bye" });
    await until(() => holding, "the end_call result's write in flight");
    const message = session.handle({ type: "user_message", text: "wait, one more thing" });
    release();
    await message;
    await session.settled();
    expect(closes).toEqual([{ code: 1000, reason: "Agent ended the call" }]);
    expect(last()).toMatchObject({
      status: "done",
      metadata: { termination_reason: "end_call tool was called." },
    });
    expect(transcriptOf(last()).some((e) => e.message === "Still here!")).toBe(false);
  });
});

describe("post-call work that fails", () => {
  it("marks the conversation done itself and then ends the lifecycle", async () => {
    const ended: string[] = [];
    const { session, store, errors } = startSession({
      postCall: async () => {
        throw new Error("analysis write failed");
      },
      lifecycle: { started: async () => undefined, ended: async (id) => void ended.push(id) },
    });
    await session.handle(INIT);
    await session.transportClosed(1000, "");
    await session.settled();
    expect(store.doc?.status).toBe("done");
    expect(ended).toEqual([session.conversationId]);
    expect(errors).toHaveLength(1);
  });

  it("stays registered when the conversation cannot be marked done either", async () => {
    const ended: string[] = [];
    let failing = false;
    const { session, store } = startSession({
      writeFails: () => failing,
      postCall: async () => {
        failing = true;
        throw new Error("analysis write failed");
      },
      lifecycle: { started: async () => undefined, ended: async (id) => void ended.push(id) },
    });
    await session.handle(INIT);
    await session.transportClosed(1000, "");
    await session.settled();
    expect(store.doc?.status).toBe("processing");
    expect(ended).toEqual([]);
  });
});

describe("multimodal messages", () => {
  it("refuses a multimodal_message whose text is not a user_message with a string", () => {
    for (const frame of [
      { type: "multimodal_message", text: { text: {} } },
      { type: "multimodal_message", text: { type: "user_message", text: 7 } },
      { type: "multimodal_message", text: "hello" },
    ])
      expect(parseClientFrame(JSON.stringify(frame))).toMatchObject({ ok: false });
    expect(
      parseClientFrame(
        JSON.stringify({ type: "multimodal_message", text: { type: "user_message", text: "hi" } }),
      ),
    ).toMatchObject({ ok: true });
  });

  it("records a crashed session failed even when its document can no longer be written whole", async () => {
    const { session, store, closes, errors } = startSession({ validate: true });
    await session.handle(INIT);
    await session.handle({
      type: "multimodal_message",
      text: { type: "user_message", text: { not: "a string" } as unknown as string },
    });
    await session.settled();
    expect(closes.map((c) => c.code)).toEqual([1011]);
    expect(store.doc?.status).toBe("failed");
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe("the session's register", () => {
  it("registers the session before its first write", async () => {
    const order: string[] = [];
    const harness = startSession({
      lifecycle: {
        started: async () => void order.push(`started after ${harness.written.length} write(s)`),
        ended: async () => undefined,
      },
    });
    await harness.session.handle(INIT);
    await harness.session.settled();
    expect(order).toEqual(["started after 0 write(s)"]);
    expect(harness.written).toHaveLength(1);
  });
});

describe("client tool answers", () => {
  it("does not record the automatic answer to a client tool that expects none", async () => {
    const { session, last } = startSession({
      conversationConfig: TOOLS,
      scripts: [[toolCall("notify", "n_1")], [text("Done.")]],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "notify me" });
    await session.settled();
    await session.handle({
      type: "client_tool_result",
      tool_call_id: "n_1",
      result: "shown",
      is_error: false,
    });
    await session.settled();
    const results = transcriptOf(last()).flatMap((e) => (e.tool_results as Json[] | undefined) ?? []);
    expect(results.map((r) => [r.request_id, r.result_value])).toEqual([["n_1", CLIENT_TOOL_CALLED]]);
  });
});

describe("a turn cut off by the end of the session", () => {
  it.each([
    ["the client disconnects", (s: ReturnType<typeof startSession>) => s.session.transportClosed(1006, "")],
    ["the server stops", (s: ReturnType<typeof startSession>) => s.session.shutdown()],
    ["the maximum duration passes", async (s: ReturnType<typeof startSession>) => s.clock.advance(60_000)],
  ])("records the partial reply the client saw when %s", async (_name, stop) => {
    const harness = startSession({
      conversationConfig: { conversation: { max_duration_seconds: 30 } },
      scripts: [endless("I was saying")],
    });
    await harness.session.handle(INIT);
    await harness.session.handle({ type: "user_message", text: "tell me" });
    await until(() => harness.sent("agent_chat_response_part").length === 2, "the first delta");
    await stop(harness);
    await harness.session.settled();
    const transcript = transcriptOf(harness.last());
    expect(transcript.at(-1)).toMatchObject({ role: "agent", message: "I was saying", interrupted: true });
    expect(["done", "failed"]).toContain(harness.last().status);
  });
});

describe("other writers during a call", () => {
  it("keeps what another writer stored mid-call (feedback, tags) when the session writes again", async () => {
    const { session, store, last } = startSession({ scripts: [[text("One.")], [text("Two.")]] });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "first" });
    await session.settled();
    const doc = store.doc as Json;
    store.doc = {
      ...doc,
      tags: ["vip"],
      metadata: { ...(doc.metadata as Json), feedback: { overall_score: "like", type: "thumbs" } },
    };
    await session.handle({ type: "user_message", text: "second" });
    await session.settled();
    expect(last()).toMatchObject({ tags: ["vip"], metadata: { feedback: { overall_score: "like" } } });
    expect(transcriptOf(last()).map((e) => e.message)).toEqual(["first", "One.", "second", "Two."]);
  });

  it("stops writing a conversation deleted mid-call, and goes on unrecorded", async () => {
    const { session, store, written, closes, sent } = startSession({
      scripts: [[text("One.")], [text("Two.")]],
    });
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "first" });
    await session.settled();
    const count = written.length;
    store.deleted = true;
    await session.handle({ type: "user_message", text: "second" });
    await session.settled();
    expect(sent("agent_response").map((f) => f.agent_response_event.agent_response)).toEqual([
      "One.",
      "Two.",
    ]);
    expect(closes).toEqual([]);
    await session.transportClosed(1000, "");
    await session.settled();
    expect(written).toHaveLength(count);
    expect(store.deleted).toBe(true);
  });
  it("runs no post-call work for a conversation deleted mid-call, and leaves the register", async () => {
    const calls: string[] = [];
    const { session, store } = startSession({
      postCall: async (id) => void calls.push(`postCall ${id}`),
      lifecycle: { started: async () => undefined, ended: async (id) => void calls.push(`ended ${id}`) },
    });
    await session.handle(INIT);
    store.deleted = true;
    await session.transportClosed(1000, "");
    await session.settled();
    expect(calls).toEqual([`ended ${session.conversationId}`]);
  });
});
