import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAudioFormat } from "../../src/audio/audio-format.js";
import { parseWav } from "../../src/audio/wav.js";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { type FakeSpeechServer, startFakeSpeechServer } from "../support/fake-speech-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { connectVoice, speechSignal } from "./voice-client.js";

type Json = Record<string, unknown>;

const PCM16 = getAudioFormat("pcm_16000");

/** Waits (polling every 10 ms, at most 5 s) until `check` holds. */
async function poll(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(BACKENDS)("voice sessions with speech providers and a model, on %s", (backend) => {
  let server: TestServer;
  let speech: FakeSpeechServer;
  let llm: FakeLlmServer;

  beforeAll(async () => {
    speech = await startFakeSpeechServer();
    llm = await startFakeLlmServer(() => ({ text: ["Sure. ", "Your order ships ", "tomorrow."] }));
    server = await startTestServer(backend, {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "fake-model",
      OPENCONVAI_ASR_BASE_URL: speech.url,
      OPENCONVAI_ASR_MODEL: "whisper-1",
      OPENCONVAI_TTS_BASE_URL: speech.url,
      OPENCONVAI_TTS_MODEL: "tts-1",
    });
  });
  afterAll(async () => {
    await server?.stop();
    await speech?.close();
    await llm?.close();
  });

  const createAgent = async (config: Json) => {
    const response = await server.fetch("/v1/convai/agents/create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      // Not recorded: encoding MP3s would only slow the tests down.
      body: JSON.stringify({
        conversation_config: config,
        platform_settings: { privacy: { record_voice: false } },
      }),
    });
    return ((await response.json()) as { agent_id: string }).agent_id;
  };

  it("sends the user's turn to the ASR as a WAV, its text to the model, and speaks the reply by sentence", async () => {
    speech.setTranscription(() => ({ text: " Where is my order?" }));
    const agentId = await createAgent({
      agent: { first_message: "", language: "en", prompt: { prompt: "You track orders." } },
      tts: { voice_id: "alloy" },
    });
    const client = await connectVoice(server.url, agentId);
    client.stream(speechSignal(2600, [[400, 1400]]), PCM16);
    const transcript = await client.waitFor((f) => f.type === "user_transcript");
    expect((transcript.user_transcription_event as Json).user_transcript).toBe("Where is my order?");
    const reply = await client.waitFor((f) => f.type === "agent_response");
    expect((reply.agent_response_event as Json).agent_response).toBe("Sure. Your order ships tomorrow.");

    const upload = speech.transcriptions[0];
    expect(upload?.fields.language).toBe("en");
    const wav = parseWav(new Uint8Array(upload?.file?.bytes ?? Buffer.alloc(0)));
    expect(wav.sampleRate).toBe(16_000);
    // About the second of speech, with a little before and after it.
    expect(wav.samples.length / 16).toBeGreaterThan(1000);
    expect(wav.samples.length / 16).toBeLessThan(2000);

    const messages = (llm.requests.at(-1)?.messages ?? []) as Json[];
    expect(messages.some((m) => m.role === "user" && m.content === "Where is my order?")).toBe(true);

    // One synthesis per sentence, with the agent's voice.
    await poll(() => speech.speeches.length >= 2);
    expect(speech.speeches.map((s) => s.body.input)).toEqual(["Sure.", "Your order ships tomorrow."]);
    expect(speech.speeches[0]?.body.voice).toBe("alloy");
    const audio = client.frames.filter((f) => f.type === "audio").map((f) => f.audio_event as Json);
    expect(audio.length).toBeGreaterThan(3);
    const spelled = audio.map((e) => ((e.alignment as Json).chars as string[]).join("")).join("");
    expect(spelled).toBe("Sure. Your order ships tomorrow.");
    client.socket.close(1000);
    await client.closed;
  });

  it("ends the call with an error event and 1002 when speech recognition fails", async () => {
    speech.setTranscription(() => ({ status: 500, errorMessage: "model not loaded" }));
    const agentId = await createAgent({ agent: { first_message: "" } });
    const client = await connectVoice(server.url, agentId);
    client.stream(speechSignal(2400, [[400, 1200]]), PCM16);
    const closed = await client.closed;
    expect(closed.code).toBe(1002);
    const error = client.frames.find((f) => f.type === "error")?.error_event as Json;
    expect(error.error_type).toBe("asr_transcription_error");
    const id = client.conversationId();
    const doc = (await (await server.fetch(`/v1/convai/conversations/${id}`)).json()) as Json;
    expect(doc.status).toBe("failed");
    expect((doc.metadata as Json).termination_reason).toMatch(/Speech recognition failed/);
  });

  it("ends the call with an error event and 1002 when the speech synthesis fails", async () => {
    speech.setTranscription(() => ({ text: "Hello?" }));
    speech.setSpeech(() => ({ status: 400, errorMessage: "unknown voice" }));
    const agentId = await createAgent({ agent: { first_message: "Hi, how can I help?" } });
    const client = await connectVoice(server.url, agentId);
    const closed = await client.closed;
    expect(closed.code).toBe(1002);
    const error = client.frames.find((f) => f.type === "error")?.error_event as Json;
    expect(error.error_type).toBe("tts_cascade_error");
    expect(client.frames.some((f) => f.type === "audio")).toBe(false);
    speech.setSpeech(() => ({}));
  });

  it("interrupts a reply still being synthesized: the speech request is aborted and the heard part recorded", async () => {
    speech.setTranscription(() => ({ text: "Tell me everything." }));
    llm.setReply(() => ({
      text: ["One two three four five six seven. ", "And then the rest of it, slowly."],
    }));
    // The first sentence is spoken at once (about 2 s of it); the second never comes.
    speech.setSpeech((request) =>
      String(request.body.input).startsWith("One") ? { msPerCharacter: 60 } : { hang: true },
    );
    const agentId = await createAgent({ agent: { first_message: "" } });
    const client = await connectVoice(server.url, agentId);
    client.stream(speechSignal(2400, [[400, 1200]]), PCM16);
    await client.waitFor((f) => f.type === "audio");
    await new Promise((resolve) => setTimeout(resolve, 700));
    client.stream(speechSignal(1000, [[0, 600]]), PCM16);
    const correction = (await client.waitFor((f) => f.type === "agent_response_correction"))
      .agent_response_correction_event as Json;
    const original = "One two three four five six seven. And then the rest of it, slowly.";
    expect(correction.original_agent_response).toBe(original);
    const corrected = correction.corrected_agent_response as string;
    expect(corrected).toMatch(/^One two/);
    expect(corrected.length).toBeLessThan("One two three four five six seven.".length);
    // No agent_response for the cut reply, and the hanging synthesis was closed.
    expect(client.frames.some((f) => f.type === "agent_response")).toBe(false);
    await poll(() => speech.disconnects() > 0);
    client.socket.close(1000);
    await client.closed;
    // The session's last write comes after the close.
    let agentEntry: Json | undefined;
    const deadline = Date.now() + 5_000;
    while (agentEntry?.interrupted !== true && Date.now() < deadline) {
      const response = await server.fetch(`/v1/convai/conversations/${client.conversationId()}`);
      const doc = (await response.json()) as Json;
      agentEntry = ((doc.transcript as Json[] | undefined) ?? []).find((t) => t.role === "agent");
      if (agentEntry?.interrupted !== true) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(agentEntry?.interrupted).toBe(true);
    expect(agentEntry?.message).toBe(corrected);
    expect(agentEntry?.original_message).toBe(original);
    speech.setSpeech(() => ({}));
  });
});
