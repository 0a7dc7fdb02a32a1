import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeToPcm } from "../../src/audio/audio-codec.js";
import { getAudioFormat } from "../../src/audio/audio-format.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { connectVoice, speechSignal, type VoiceClient } from "./voice-client.js";

type Json = Record<string, unknown>;

/** Runs `check` again every 20 ms until it passes (at most `timeoutMs`); returns its value. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const PCM16 = getAudioFormat("pcm_16000");
const ULAW = getAudioFormat("ulaw_8000");

/** The `audio` events' payloads. */
const audioEvents = (client: VoiceClient) =>
  client.frames.filter((f) => f.type === "audio").map((f) => f.audio_event as Json);

describe.each(BACKENDS)("voice sessions over a raw WebSocket, development voice, on %s", (backend) => {
  let server: TestServer;
  const open: VoiceClient[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.socket.close(1000);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** An agent; its calls are not recorded unless `record` (encoding MP3s would only slow the other tests). */
  const createAgent = async (config: Json, record = false) => {
    const response = await server.fetch("/v1/convai/agents/create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        conversation_config: config,
        ...(record ? {} : { platform_settings: { privacy: { record_voice: false } } }),
      }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { agent_id: string }).agent_id;
  };
  const connect = async (agentId: string) => {
    const client = await connectVoice(server.url, agentId);
    open.push(client);
    return client;
  };
  const stored = async (id: string) =>
    (await (await server.fetch(`/v1/convai/conversations/${id}`)).json()) as Json;

  it("hears a spoken turn: vad scores, a placeholder transcript, a spoken reply with alignment, and the timings", async () => {
    const agentId = await createAgent({ agent: { first_message: "" } });
    const client = await connect(agentId);
    const metadata = client.frames[0]?.conversation_initiation_metadata_event as Json;
    expect(metadata.user_input_audio_format).toBe("pcm_16000");
    expect(metadata.agent_output_audio_format).toBe("pcm_16000");
    client.stream(speechSignal(2600, [[500, 1300]]), PCM16);
    const transcript = await client.waitFor((f) => f.type === "user_transcript");
    const heard = (transcript.user_transcription_event as Json).user_transcript as string;
    expect(heard).toMatch(/^\[speech 0\.[789] s\]$/);
    const reply = await client.waitFor((f) => f.type === "agent_response");
    const replyEvent = reply.agent_response_event as Json;
    expect(replyEvent.agent_response).toBe(`You said: ${heard}`);
    const scores = client.frames
      .filter((f) => f.type === "vad_score")
      .map((f) => (f.vad_score_event as Json).vad_score as number);
    expect(scores.length).toBeGreaterThan(10);
    expect(Math.max(...scores)).toBeGreaterThan(0.5);
    expect(Math.min(...scores)).toBeLessThan(0.5);
    const audio = audioEvents(client);
    expect(audio.length).toBeGreaterThan(5);
    for (const event of audio) {
      expect(event.event_id).toBe(replyEvent.event_id);
      expect(Buffer.from(event.audio_base_64 as string, "base64").length % 2).toBe(0);
      expect(event.alignment).toBeDefined();
    }
    const spelled = audio.map((e) => ((e.alignment as Json).chars as string[]).join("")).join("");
    expect(spelled).toBe(`You said: ${heard}`);
    const id = client.conversationId();
    const doc = await eventually(async () => {
      const found = await stored(id);
      expect((found.transcript as Json[]).some((t) => t.role === "agent" && t.message)).toBe(true);
      return found;
    });
    const [user, agent] = doc.transcript as [Json, Json];
    expect(user.source_medium).toBe("audio");
    const userMetrics = (user.conversation_turn_metrics as Json).metrics as Record<
      string,
      { elapsed_time: number }
    >;
    // Call times: the first chunk is placed when it arrived, the rest by their samples.
    const speechStart = userMetrics.convai_user_speech_start?.elapsed_time ?? 0;
    const speechEnd = userMetrics.convai_user_speech_end?.elapsed_time ?? 0;
    expect(speechStart).toBeGreaterThan(0.4);
    expect(speechStart).toBeLessThan(2);
    expect(speechEnd - speechStart).toBeGreaterThan(0.7);
    expect(speechEnd - speechStart).toBeLessThan(0.9);
    expect(user.time_in_call_secs).toBe(Math.floor(speechStart));
    const agentMetrics = (agent.conversation_turn_metrics as Json).metrics as Record<
      string,
      { elapsed_time: number }
    >;
    for (const name of [
      "convai_time_to_first_audio",
      "convai_asr_service_latency",
      "convai_llm_service_ttf_sentence",
      "convai_tts_service_ttfb",
    ])
      expect(agentMetrics[name]?.elapsed_time).toBeGreaterThanOrEqual(0);
  });

  it("stops speaking when the user talks over the agent: interruption, the heard part, a truncated entry", async () => {
    const greeting =
      "Hello there, this is a rather long greeting that goes on for a good while, so that you can talk over it.";
    const agentId = await createAgent({ agent: { first_message: greeting } });
    const client = await connect(agentId);
    const first = await client.waitFor((f) => f.type === "agent_response");
    const eventId = (first.agent_response_event as Json).event_id;
    client.stream(speechSignal(300, []), PCM16);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    client.stream(speechSignal(1800, [[0, 700]]), PCM16);
    const interruption = await client.waitFor((f) => f.type === "interruption");
    expect((interruption.interruption_event as Json).event_id).toBe(eventId);
    const correction = (await client.waitFor((f) => f.type === "agent_response_correction"))
      .agent_response_correction_event as Json;
    const corrected = correction.corrected_agent_response as string;
    expect(correction.original_agent_response).toBe(greeting);
    expect(corrected.length).toBeGreaterThan(0);
    expect(corrected.length).toBeLessThan(greeting.length / 2);
    expect(greeting.startsWith(corrected)).toBe(true);
    const id = client.conversationId();
    await eventually(async () => {
      const entry = ((await stored(id)).transcript as Json[])[0];
      expect(entry?.interrupted).toBe(true);
      expect(entry?.message).toBe(corrected);
      expect(entry?.original_message).toBe(greeting);
    });
  });

  it("speaks and hears ulaw_8000 when the agent asks for it", async () => {
    const agentId = await createAgent({
      agent: { first_message: "" },
      asr: { user_input_audio_format: "ulaw_8000" },
      tts: { agent_output_audio_format: "ulaw_8000" },
    });
    const client = await connect(agentId);
    const metadata = client.frames[0]?.conversation_initiation_metadata_event as Json;
    expect(metadata.user_input_audio_format).toBe("ulaw_8000");
    expect(metadata.agent_output_audio_format).toBe("ulaw_8000");
    client.stream(speechSignal(2400, [[400, 1200]]), ULAW);
    await client.waitFor((f) => f.type === "user_transcript");
    await client.waitFor((f) => f.type === "agent_response");
    const audio = audioEvents(client);
    expect(audio.length).toBeGreaterThan(2);
    // 100 ms at 8 kHz, one byte a sample; the last chunk of a sentence may be shorter.
    expect(Buffer.from(audio[0]?.audio_base_64 as string, "base64").length).toBe(800);
    const samples = decodeToPcm(ULAW, Buffer.from(audio[0]?.audio_base_64 as string, "base64"));
    expect(samples.some((s) => Math.abs(s) > 1000)).toBe(true);
  });

  it("closes with 1008 on a chunk that is not base64, or not whole samples", async () => {
    const agentId = await createAgent({ agent: { first_message: "" } });
    const bad = await connect(agentId);
    bad.socket.send(JSON.stringify({ user_audio_chunk: "not base64!" }));
    const closed = await bad.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/base64/);
    const odd = await connect(agentId);
    odd.socket.send(JSON.stringify({ user_audio_chunk: Buffer.from([1, 2, 3]).toString("base64") }));
    const oddClosed = await odd.closed;
    expect(oddClosed.code).toBe(1008);
    expect(oddClosed.reason).toMatch(/whole 2-byte samples/);
  });

  it("closes with 1008 when audio comes much faster than real time", async () => {
    const agentId = await createAgent({ agent: { first_message: "" } });
    const client = await connect(agentId);
    client.stream(new Int16Array(16_000 * 8), PCM16);
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/real time/);
  });

  it("ends a call whose client sends only silence by the agent's silence timeout: bytes are not activity", async () => {
    const agentId = await createAgent({
      agent: { first_message: "" },
      turn: { silence_end_call_timeout: 1 },
    });
    const client = await connect(agentId);
    const started = Date.now();
    client.stream(speechSignal(1500, []), PCM16);
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const doc = (await (
      await server.fetch(`/v1/convai/conversations/${client.conversationId()}`)
    ).json()) as Json;
    expect((doc.metadata as Json).termination_reason).toMatch(/silence_end_call_timeout/);
  });

  it("stores the call's audio when it ends (an MP3 with both speakers), and none when record_voice is false", async () => {
    const agentId = await createAgent({ agent: { first_message: "Hi." } }, true);
    const client = await connect(agentId);
    await client.waitFor((f) => f.type === "agent_response");
    client.stream(speechSignal(2400, [[300, 1100]]), PCM16);
    await client.waitFor((f) => f.type === "user_transcript");
    client.socket.close(1000);
    await client.closed;
    const id = client.conversationId();
    const doc = await eventually(async () => {
      const found = await stored(id);
      expect(found.has_audio).toBe(true);
      return found;
      // The MP3 is encoded in a worker thread, whose start is slow under the test runner.
    }, 15_000);
    expect(doc.has_user_audio).toBe(true);
    expect(doc.has_response_audio).toBe(true);
    const audio = await server.fetch(`/v1/convai/conversations/${id}/audio`);
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toMatch(/audio\/mpeg/);
    expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const quiet = await connect(await createAgent({ agent: { first_message: "Hi." } }));
    await quiet.waitFor((f) => f.type === "agent_response");
    quiet.stream(speechSignal(1000, [[200, 700]]), PCM16);
    quiet.socket.close(1000);
    await quiet.closed;
    const quietDoc = await eventually(async () => {
      const found = await stored(quiet.conversationId());
      expect(found.status).toBe("done");
      return found;
    });
    expect(quietDoc.status).toBe("done");
    // A recording would be stored right after the last write: give it the time it took above.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await stored(quiet.conversationId())).has_audio).toBe(false);
  });
});
