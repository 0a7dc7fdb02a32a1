/**
 * The official browser client (`@elevenlabs/client`'s IIFE bundle) in headless Chromium, text
 * only, against a listening openconvai whose model is a local OpenAI-compatible fake: connect with
 * agentId + origin, send a message, get the reply, end the session, read the transcript back.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConversationUntil } from "../runtime/eventually.js";
import { BACKENDS } from "../support/backends.js";
import { type FakeLlmServer, startFakeLlmServer } from "../support/fake-llm-server.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { closeChromium, launchChromium } from "./support/chromium.js";
import {
  type ClientPageGlobals,
  type ClientPageServer,
  openClientPage,
  type PageEvent,
  readPageEvents,
  startClientPageServer,
  waitForPageEvent,
} from "./support/client-page.js";

const GREETING = "Hello from openconvai.";
const USER_TEXT = "hello from chromium";
const REPLY = "Happy to help.";

/** The post-call analysis the fake model answers (a request with a response_format). */
const ANALYSIS = {
  transcript_summary: "The user said hello from a browser.",
  call_summary_title: "Browser hello",
  call_successful: "success",
  evaluation_criteria_results: {},
  data_collection_results: {},
};

describe("the official browser client in Chromium, text only", () => {
  let browser: Browser | undefined;
  let pages: ClientPageServer | undefined;

  beforeAll(async () => {
    // allSettled, not all: when one start fails, the other's browser or server is still kept for afterAll to close.
    const [launched, started] = await Promise.allSettled([launchChromium(), startClientPageServer()]);
    if (launched.status === "fulfilled") browser = launched.value;
    if (started.status === "fulfilled") pages = started.value;
    if (launched.status === "rejected") throw launched.reason;
    if (started.status === "rejected") throw started.reason;
  });
  afterAll(async () => {
    await closeChromium(browser);
    await pages?.close();
  });

  describe.each(BACKENDS)("against a listening server on %s", (backend) => {
    let server: TestServer | undefined;
    let llm: FakeLlmServer | undefined;
    let page: Page | undefined;

    beforeAll(async () => {
      llm = await startFakeLlmServer((body) =>
        body.response_format === undefined
          ? { text: ["Happy ", "to ", "help."] }
          : { text: [JSON.stringify(ANALYSIS)] },
      );
      server = await startTestServer(backend, {
        OPENCONVAI_LLM_BASE_URL: llm.url,
        OPENCONVAI_LLM_MODEL: "test-model",
      });
    });
    afterAll(async () => {
      await page?.context().close();
      await server?.stop();
      await llm?.close();
    });

    it("connects with agentId + origin, chats, ends, and the transcript is on the server", async () => {
      if (!browser || !pages || !server || !llm) throw new Error("the suite's setup did not finish");
      const { agentId } = await server.client.conversationalAi.agents.create({
        conversationConfig: { agent: { firstMessage: GREETING } },
      });
      page = await openClientPage(browser, pages);

      const conversationId = await page.evaluate(
        async ({ origin, agentId }) => {
          const w = globalThis as unknown as ClientPageGlobals;
          const conversation = await w.ElevenLabsClient.Conversation.startSession({
            origin,
            agentId,
            connectionType: "websocket",
            textOnly: true,
            ...w.__recordingCallbacks(),
          });
          w.__conversation = conversation;
          return conversation.getId();
        },
        { origin: server.url, agentId },
      );
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const connect = await waitForPageEvent<Extract<PageEvent, { kind: "connect" }>>(page, {
        kind: "connect",
      });
      expect(connect.conversationId).toBe(conversationId);
      expect(conversationId).toMatch(/^conv_/);
      await waitForPageEvent(page, { kind: "message", role: "agent", message: GREETING });

      await page.evaluate((text) => {
        (globalThis as unknown as ClientPageGlobals).__conversation?.sendUserMessage(text);
      }, USER_TEXT);
      await waitForPageEvent(page, { kind: "message", role: "agent", message: REPLY });
      // The model was asked with the text the browser typed.
      expect(JSON.stringify(llm.requests.at(0)?.messages)).toContain(USER_TEXT);

      await page.evaluate(() => (globalThis as unknown as ClientPageGlobals).__conversation?.endSession());
      const disconnect = await waitForPageEvent<Extract<PageEvent, { kind: "disconnect" }>>(page, {
        kind: "disconnect",
      });
      expect(disconnect.reason).toBe("user");
      expect((await readPageEvents(page)).filter((e) => e.kind === "error")).toEqual([]);

      const after = await readConversationUntil(
        server.client,
        conversationId,
        (c) => c.status === "done" || c.status === "failed",
      );
      expect(after.status).toBe("done");
      expect(after.analysis?.callSuccessful).toBe("success");
      expect(after.agentId).toBe(agentId);
      expect(after.metadata.textOnly).toBe(true);
      expect(after.transcript.filter((t) => t.message).map((t) => [t.role, t.message])).toEqual([
        ["agent", GREETING],
        ["user", USER_TEXT],
        ["agent", REPLY],
      ]);
    });
  });
});
