/**
 * The official browser client in headless Chromium, in a voice session over the WebSocket against
 * a listening openconvai with no speech providers and no model: development voice. The fake
 * microphone's speech gets the placeholder transcript (`[speech 0.8 s]`), the development agent's
 * answer plays as the synthetic voice (speaking → listening), speaking over it interrupts it, and
 * the call's recording is served as an MP3 with each speaker where they spoke.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../runtime/eventually.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { closeChromium, launchChromium } from "./support/chromium.js";
import { type ClientPageServer, openClientPage, startClientPageServer } from "./support/client-page.js";
import { writeFakeMicWav } from "./support/fake-mic.js";
import { eventsOf, runBrowserVoiceCall, VOICE_MIC_SCRIPT } from "./support/voice-call.js";
import { checkVoiceCall, createVoiceAgent } from "./support/voice-checks.js";

/** The placeholder transcript of a detected speech turn: its length, to a tenth of a second. */
const PLACEHOLDER = /^\[speech \d+\.\d s\]$/;

// SQLite only, as in voice-providers.test.ts: the Node voice suites cover PostgreSQL.
describe("the official browser client in Chromium, development voice (no providers), on sqlite", () => {
  let browser: Browser | undefined;
  let pages: ClientPageServer | undefined;
  let server: TestServer | undefined;
  let page: Page | undefined;

  beforeAll(async () => {
    const results = await Promise.allSettled([
      launchChromium({ fakeMicWav: writeFakeMicWav(VOICE_MIC_SCRIPT) }),
      startClientPageServer(),
      startTestServer("sqlite"),
    ]);
    const [launched, started, serverStarted] = results;
    if (launched.status === "fulfilled") browser = launched.value;
    if (started.status === "fulfilled") pages = started.value;
    if (serverStarted.status === "fulfilled") server = serverStarted.value;
    for (const result of results) if (result.status === "rejected") throw result.reason;
  });
  afterAll(async () => {
    await page?.context().close();
    await closeChromium(browser);
    await pages?.close();
    await server?.stop();
  });

  it("hears the mic as a placeholder turn, plays the synthetic reply, is interrupted, records the call", async () => {
    if (!browser || !pages || !server) throw new Error("the suite's setup did not finish");
    const agentId = await createVoiceAgent(server, "pcm_16000");
    page = await openClientPage(browser, pages);

    const call = await runBrowserVoiceCall(page, server.url, agentId);
    expect(call).toMatchObject({ inputFormat: "pcm_16000", outputFormat: "pcm_16000" });
    const heard = eventsOf(call.events, "message").find((m) => m.role === "user")?.message;
    expect(heard).toMatch(PLACEHOLDER);
    // The first burst is 0.8 s; the detector's edges may add or take a frame or two.
    const seconds = Number(/\d+\.\d/.exec(heard ?? "")?.[0]);
    expect(seconds).toBeGreaterThanOrEqual(0.6);
    expect(seconds).toBeLessThanOrEqual(1.2);

    const stored = await eventually(
      () =>
        server?.client.conversationalAi.conversations.get(call.conversationId) as Promise<{
          status: string;
          hasAudio?: boolean;
        }>,
      (c) => (c.status === "done" || c.status === "failed") && c.hasAudio === true,
    );
    expect(stored.status).toBe("done");
    await checkVoiceCall(server, call, { reply: `You said: ${heard}` });
  }, 40_000);
});
