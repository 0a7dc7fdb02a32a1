import { describe, expect, it } from "vitest";
import type { CallRecording } from "../../src/recording/call-recording.js";
import type { ClientEvent } from "../../src/runtime/client-frames.js";
import { DevelopmentAgent } from "../../src/runtime/development-agent.js";
import { startSession, until } from "./session-harness.js";
import { speechSignal } from "./voice-client.js";

type Json = Record<string, unknown>;

const VOICE_INIT: ClientEvent = {
  type: "conversation_initiation_client_data",
  conversation_config_override: {},
};

/** A voice session on a manual clock, fed 32 ms chunks with the clock moving with them. */
function startVoice(platformSettings?: Json) {
  const stored: CallRecording[] = [];
  const harness = startSession({
    conversationConfig: { agent: { first_message: "" } },
    brain: new DevelopmentAgent(),
    storeRecording: async (_id, recording) => {
      stored.push(recording);
    },
    ...(platformSettings ? { platformSettings } : {}),
  });
  const feed = async (samples: Int16Array) => {
    for (let at = 0; at < samples.length; at += 512) {
      const chunk = samples.subarray(at, at + 512);
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      harness.clock.advance(32);
      await harness.session.handle({ type: "user_audio_chunk", user_audio_chunk: bytes.toString("base64") });
    }
  };
  return { ...harness, stored, feed };
}

/** The last non-zero sample position of a track, in ms. */
function lastSoundMs(recording: CallRecording, track: "user" | "agent"): number {
  const { segmentSamples, segments } = recording.viewTracks()[track];
  let last = 0;
  for (const { index, samples } of segments)
    for (let i = 0; i < samples.length; i++) if (samples[i] !== 0) last = index * segmentSamples + i;
  return (last * 1000) / recording.sampleRate;
}

describe("a voice session's recording and turns, on a manual clock", () => {
  it("records both speakers on one timeline, cuts the agent where the user spoke over it, and hands it over at the end", async () => {
    const { session, sent, feed, stored, last } = startVoice();
    await session.handle(VOICE_INIT);
    await feed(speechSignal(2400, [[300, 1100]]));
    await until(() => sent("agent_response").length > 0, "the spoken reply");
    const reply = sent("agent_response")[0]?.agent_response_event.agent_response ?? "";
    expect(reply).toMatch(/^You said: \[speech 0\.\d s\]$/);
    expect(sent("audio").length).toBeGreaterThan(5);
    // The reply plays for about 1.5 s from now (call time ≈ 2.4 s); the user speaks over it.
    await feed(speechSignal(1200, [[100, 700]]));
    await until(() => sent("agent_response_correction").length > 0, "the correction");
    const correction = sent("agent_response_correction")[0]?.agent_response_correction_event;
    expect(correction?.original_agent_response).toBe(reply);
    expect(reply.startsWith(correction?.corrected_agent_response ?? "x")).toBe(true);
    expect(correction?.corrected_agent_response.length).toBeLessThan(reply.length);
    await session.transportClosed(1000, "");
    await session.settled();
    expect(stored).toHaveLength(1);
    const recording = stored[0] as CallRecording;
    expect(recording.hasUser && recording.hasAgent).toBe(true);
    // The user's first burst where it was spoken; the agent's audio from the reply to the cut.
    expect(lastSoundMs(recording, "user")).toBeGreaterThan(3000);
    const agentEnd = lastSoundMs(recording, "agent");
    expect(agentEnd).toBeGreaterThan(2400);
    expect(agentEnd).toBeLessThan(2400 + 700);
    const entries = last().transcript as Json[];
    expect(entries[1]?.interrupted).toBe(true);
    expect(entries[1]?.message).toBe(correction?.corrected_agent_response);
  });

  it("records nothing when the agent's privacy.record_voice is false", async () => {
    const { session, sent, feed, stored } = startVoice({ privacy: { record_voice: false } });
    await session.handle(VOICE_INIT);
    await feed(speechSignal(2400, [[300, 1100]]));
    await until(() => sent("agent_response").length > 0, "the spoken reply");
    await session.transportClosed(1000, "");
    await session.settled();
    expect(stored).toHaveLength(0);
  });

  it("refuses audio in a text-only session with 1008", async () => {
    const { session, closes } = startVoice();
    await session.handle({
      ...VOICE_INIT,
      conversation_config_override: { conversation: { text_only: true } },
    });
    await session.handle({ type: "user_audio_chunk", user_audio_chunk: "AAAA" });
    expect(closes[0]?.code).toBe(1008);
    expect(closes[0]?.reason).toMatch(/text only/);
  });
});
