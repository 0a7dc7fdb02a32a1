import { describe, expect, it } from "vitest";
import type { AgentConfig } from "../../src/agents/agent-service.js";
import type { ClientEvent } from "../../src/runtime/client-frames.js";
import type { ConversationWriter } from "../../src/runtime/conversation-recorder.js";
import { ConversationSession } from "../../src/runtime/conversation-session.js";
import { DevelopmentAgent } from "../../src/runtime/development-agent.js";
import type { ServerFrame } from "../../src/runtime/server-frames.js";
import { ManualClock } from "./session-harness.js";

const TIMINGS = { pingIntervalMs: 1_000, initiationTimeoutMs: 5_000, greetingDelayMs: 0 };
/** Text only: this suite tests the text path (a session without it is a voice session). */
const INIT: ClientEvent = {
  type: "conversation_initiation_client_data",
  conversation_config_override: { conversation: { text_only: true } },
};

/** A session over a recording transport and an in-memory writer. */
function startSession(agent: Partial<AgentConfig["conversationConfig"]> = {}) {
  const clock = new ManualClock();
  const frames: ServerFrame[] = [];
  const closes: { code: number; reason: string }[] = [];
  const written: Record<string, unknown>[] = [];
  const writer: ConversationWriter = {
    putConversation: async (body) => {
      written.push(structuredClone(body) as Record<string, unknown>);
      return {} as Awaited<ReturnType<ConversationWriter["putConversation"]>>;
    },
    changeConversation: async (_id, change) => {
      written.push(structuredClone(change(structuredClone(written.at(-1) ?? {}))));
      return {} as Awaited<ReturnType<ConversationWriter["changeConversation"]>>;
    },
  };
  const session = new ConversationSession({
    agent: { agentId: "agent_unit", name: "Unit", conversationConfig: { agent }, platformSettings: null },
    brain: new DevelopmentAgent(),
    writer,
    clock,
    timings: TIMINGS,
    transport: {
      send: (frame) => frames.push(frame),
      close: (code, reason) => closes.push({ code, reason }),
    },
  });
  return { session, clock, frames, closes, written };
}

describe("the conversation session state machine", () => {
  it("sends the metadata first, then pings on the clock, each with a new event_id and the last round trip", async () => {
    const { session, clock, frames } = startSession();
    await session.handle(INIT);
    expect(frames.map((f) => f.type)).toEqual(["conversation_initiation_metadata"]);
    expect(session.state).toBe("listening");
    clock.advance(1_000);
    const first = frames.at(-1);
    expect(first?.type).toBe("ping");
    const firstId = first?.type === "ping" ? first.ping_event.event_id : -1;
    expect(first).toEqual({ type: "ping", ping_event: { event_id: firstId, ping_ms: null } });
    clock.advance(40);
    await session.handle({ type: "pong", event_id: firstId });
    clock.advance(960);
    const second = frames.at(-1);
    expect(second).toEqual({ type: "ping", ping_event: { event_id: firstId + 1, ping_ms: 40 } });
  });

  it("closes with 1008 when no init frame arrives in time, and never sends a frame", async () => {
    const { session, clock, frames, closes, written } = startSession();
    clock.advance(4_999);
    expect(closes).toEqual([]);
    clock.advance(1);
    await session.settled();
    expect(closes).toEqual([
      { code: 1008, reason: expect.stringMatching(/conversation_initiation_client_data/) },
    ]);
    expect(frames).toEqual([]);
    expect(written).toEqual([]);
  });

  it("does not answer a contextual update or user activity", async () => {
    const { session, frames } = startSession();
    await session.handle(INIT);
    await session.handle({ type: "contextual_update", text: "on the pricing page" });
    await session.handle({ type: "user_activity" });
    expect(frames.map((f) => f.type)).toEqual(["conversation_initiation_metadata"]);
  });

  it("streams a reply as start, deltas, stop with one event_id, then agent_response", async () => {
    const { session, frames, written } = startSession();
    await session.handle(INIT);
    await session.handle({ type: "user_message", text: "hello there" });
    await session.settled();
    const reply = frames.slice(1);
    expect(
      reply.map((f) => (f.type === "agent_chat_response_part" ? f.text_response_part.type : f.type)),
    ).toEqual(["start", "delta", "delta", "delta", "delta", "stop", "agent_response"]);
    const ids = new Set(
      reply.map((f) =>
        f.type === "agent_chat_response_part"
          ? f.text_response_part.event_id
          : (f as { agent_response_event: { event_id: number } }).agent_response_event.event_id,
      ),
    );
    expect(ids.size).toBe(1);
    const last = written.at(-1) as { status: string; transcript: unknown[] };
    expect(last.status).toBe("in-progress");
    expect(last.transcript).toHaveLength(2);
  });

  it("records a client that vanished (close 1006) as failed", async () => {
    const { session, written } = startSession();
    await session.handle(INIT);
    await session.transportClosed(1006, "");
    expect(written.at(-1)).toMatchObject({
      status: "failed",
      metadata: { termination_reason: "Client disconnected: 1006" },
    });
    expect(session.state).toBe("ended");
  });
});
