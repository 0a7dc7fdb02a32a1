/**
 * The official browser client (`@elevenlabs/client`'s IIFE bundle) in headless Chromium, in a voice
 * session over the WebSocket against a listening openconvai whose recognizer, model and speech are
 * local OpenAI-compatible fakes, at pcm_16000 and at ulaw_8000: the fake microphone's speech
 * reaches the recognizer as a WAV, the agent's reply plays (speaking → listening), speaking over it
 * interrupts it, and the call's recording is served as an MP3 with each speaker where they spoke.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWav } from "../../src/audio/wav.js";
import { eventually } from "../runtime/eventually.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { type FakeSpeechServer, isRiffWave, startFakeSpeechServer } from "../support/fake-speech-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { closeChromium, launchChromium } from "./support/chromium.js";
import { type ClientPageServer, openClientPage, startClientPageServer } from "./support/client-page.js";
import { writeFakeMicWav } from "./support/fake-mic.js";
import { eventsOf, runBrowserVoiceCall, VOICE_MIC_SCRIPT } from "./support/voice-call.js";
import { checkVoiceCall, createVoiceAgent } from "./support/voice-checks.js";

const TRANSCRIPT = "Where is my order?";
/** Several sentences (about 250 characters: 5 s of the fake's speech), so the user can speak over it. */
const REPLY =
  "Your order left our warehouse this morning. It is travelling with the regular courier service. " +
  "The courier expects to deliver it tomorrow before noon. You will get a message with the tracking " +
  "link tonight. Is there anything else I can help you with today?";

/** The post-call analysis the fake model answers (a request with a response_format). */
const ANALYSIS = {
  transcript_summary: "The user asked where their order is.",
  call_summary_title: "Order status",
  call_successful: "success",
  evaluation_criteria_results: {},
  data_collection_results: {},
};

// SQLite only: the browser call takes most of the time, and the Node voice suites
// (test/runtime/voice-*.test.ts) already run the same server path on PostgreSQL.
describe("the official browser client in Chromium, voice with speech providers, on sqlite", () => {
  let browser: Browser | undefined;
  let pages: ClientPageServer | undefined;
  let server: TestServer | undefined;
  let speech: FakeSpeechServer | undefined;
  let llm: FakeLlmServer | undefined;
  const opened: Page[] = [];

  beforeAll(async () => {
    const results = await Promise.allSettled([
      launchChromium({ fakeMicWav: writeFakeMicWav(VOICE_MIC_SCRIPT) }),
      startClientPageServer(),
      startFakeSpeechServer(),
      startFakeLlmServer((body) =>
        body.response_format === undefined
          ? { text: REPLY.split(/(?<= )/) }
          : { text: [JSON.stringify(ANALYSIS)] },
      ),
    ]);
    const [launched, started, speechStarted, llmStarted] = results;
    if (launched.status === "fulfilled") browser = launched.value;
    if (started.status === "fulfilled") pages = started.value;
    if (speechStarted.status === "fulfilled") speech = speechStarted.value;
    if (llmStarted.status === "fulfilled") llm = llmStarted.value;
    for (const result of results) if (result.status === "rejected") throw result.reason;
    if (!speech || !llm) throw new Error("the fake providers did not start");
    speech.setTranscription(() => ({ text: ` ${TRANSCRIPT}` }));
    server = await startTestServer("sqlite", {
      OPENCONVAI_LLM_BASE_URL: llm.url,
      OPENCONVAI_LLM_MODEL: "fake-model",
      OPENCONVAI_ASR_BASE_URL: speech.url,
      OPENCONVAI_ASR_MODEL: "whisper-1",
      OPENCONVAI_TTS_BASE_URL: speech.url,
      OPENCONVAI_TTS_MODEL: "tts-1",
    });
  });
  afterAll(async () => {
    for (const page of opened) await page.context().close();
    await closeChromium(browser);
    await pages?.close();
    await server?.stop();
    await speech?.close();
    await llm?.close();
  });

  it.each(["pcm_16000", "ulaw_8000"])(
    "at %s: the mic reaches the recognizer, the reply plays and is interrupted, the call is recorded",
    async (format) => {
      if (!browser || !pages || !server || !speech) throw new Error("the suite's setup did not finish");
      const agentId = await createVoiceAgent(server, format);
      const uploadsBefore = speech.transcriptions.length;
      const page = await openClientPage(browser, pages);
      opened.push(page);

      const call = await runBrowserVoiceCall(page, server.url, agentId);
      expect(call).toMatchObject({ inputFormat: format, outputFormat: format });
      expect(eventsOf(call.events, "message").filter((m) => m.role === "user")[0]?.message).toBe(TRANSCRIPT);

      // The user's first turn reached the recognizer as a 16 kHz WAV of about the burst's length.
      const upload = speech.transcriptions[uploadsBefore]?.file?.bytes ?? Buffer.alloc(0);
      expect(isRiffWave(upload)).toBe(true);
      const wav = parseWav(new Uint8Array(upload));
      expect(wav.sampleRate).toBe(16_000);
      const uploadMs = (wav.samples.length * 1000) / wav.sampleRate;
      expect(uploadMs).toBeGreaterThan(500);
      expect(uploadMs).toBeLessThan(3000);

      const stored = await eventually(
        () =>
          server?.client.conversationalAi.conversations.get(call.conversationId) as Promise<{
            status: string;
            hasAudio?: boolean;
          }>,
        (c) => (c.status === "done" || c.status === "failed") && c.hasAudio === true,
      );
      expect(stored.status).toBe("done");
      await checkVoiceCall(server, call, { reply: REPLY });
    },
    40_000,
  );
});
