/**
 * The console's Agents pages and Talk: an agent made through the form is stored with what was
 * typed, an edit is saved, and Talk runs a live session with the official browser client against
 * the server's development agent (no model): text (the first message, an answer, "goodbye" ends the
 * call, the recorded conversation is linked and listed) and development voice (the fake
 * microphone's speech is heard and answered). The list, the form and Talk pass axe in light and
 * dark, at 1280 and 390 px.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeChromium, launchChromium } from "../browser/support/chromium.js";
import { writeFakeMicWav } from "../browser/support/fake-mic.js";
import { VOICE_MIC_SCRIPT } from "../browser/support/voice-call.js";
import {
  type ConsoleServer,
  DESKTOP,
  expectAccessible,
  newConsolePage,
  PHONE,
  screenshot,
  signIn,
  startConsoleServer,
  UI_WAIT_MS,
} from "./support/console-harness.js";

type Json = Record<string, unknown>;

const NAME = "Order helper";
const PROMPT = "You help customers find their orders.";
const FIRST_MESSAGE = "Hi! I can help with your order.";
const QUESTION = "Where is my order?";

/** The agent as the API answers it. */
async function readAgent(server: ConsoleServer, agentId: string): Promise<Json> {
  const response = await server.fetch(`/v1/convai/agents/${agentId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** A conversation as the API answers it. */
async function readConversation(server: ConsoleServer, conversationId: string): Promise<Json> {
  const response = await server.fetch(`/v1/convai/conversations/${conversationId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** Whether the page scrolls sideways (it must not, at 390 px). */
function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** The transcript log's lines, as "Agent: …" / "You: …". */
async function transcriptLines(page: Page): Promise<string[]> {
  const items = await page.getByRole("log").locator("li.talk-line").all();
  return Promise.all(
    items.map(async (item) => {
      const role = await item.locator(".talk-role").textContent();
      const text = await item.locator(".talk-text").textContent();
      return `${role}: ${text}`;
    }),
  );
}

/** Waits until the transcript holds a line (role and exact text). */
async function waitForLine(page: Page, role: "Agent" | "You", text: string | RegExp): Promise<void> {
  await expect
    .poll(
      async () =>
        (await transcriptLines(page)).some((line) => {
          const prefix = `${role}: `;
          if (!line.startsWith(prefix)) return false;
          const said = line.slice(prefix.length);
          return typeof text === "string" ? said === text : text.test(said);
        }),
      { timeout: UI_WAIT_MS },
    )
    .toBe(true);
}

/** The conversation id the "Open the recorded conversation" link names. */
async function recordedConversationId(page: Page): Promise<string> {
  const link = page.getByRole("link", { name: "Open the recorded conversation" });
  await link.waitFor();
  const href = (await link.getAttribute("href")) ?? "";
  const id = /^\/conversations\/(conv_[A-Za-z0-9_]+)$/.exec(href)?.[1];
  expect(id, `the link's href ${href}`).toBeDefined();
  return id as string;
}

describe("console agents and talk", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let agentId = "";

  beforeAll(async () => {
    server = await startConsoleServer();
    // The fake microphone plays speech-like bursts, for the voice session; text sessions ignore it.
    browser = await launchChromium({ fakeMicWav: writeFakeMicWav(VOICE_MIC_SCRIPT) });
  });

  afterAll(async () => {
    await closeChromium(browser);
    await server?.stop();
  });

  it("lists the agents, says when a search finds none, creates an agent through the form, and saves edits", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/agents");
      await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
      // The demo agents are listed, with their Talk and Edit links.
      await page.getByRole("link", { name: "Talk to Acme Store Support" }).waitFor();
      // A search that finds nothing says so, and what to do.
      await page.getByLabel("Search by name").fill("no such agent");
      await page.getByRole("button", { name: "Search" }).click();
      await page.getByText("No agent's name contains “no such agent”").waitFor();
      expect(page.url()).toContain("search=no+such+agent");
      await expectAccessible(page, "the agents list with no match");

      await page.getByRole("link", { name: "New agent" }).click();
      await page.getByRole("heading", { level: 1, name: "New agent" }).waitFor();
      await page.getByLabel("Name", { exact: true }).fill(NAME);
      await page.getByLabel("Prompt", { exact: true }).fill(PROMPT);
      await page.getByLabel("First message", { exact: true }).fill(FIRST_MESSAGE);

      // A tool whose JSON is broken is refused before anything is sent.
      await page.getByRole("button", { name: "Add client tool" }).click();
      await page.getByRole("group", { name: "Tool 1" }).getByLabel("Tool JSON").fill("{ not json");
      await page.getByRole("button", { name: "Create agent" }).click();
      await expect
        .poll(() => page.getByRole("alert").first().textContent())
        .toContain("Tool 1: Not valid JSON");
      expect(page.url()).toMatch(/\/agents\/new$/);
      await page.getByRole("button", { name: "Remove tool 1" }).click();
      await page.getByRole("button", { name: "Add webhook tool" }).click();

      await page.getByRole("button", { name: "Add criterion" }).click();
      const criterion = page.getByRole("group", { name: "Criterion 1" });
      await criterion.getByLabel("ID").fill("order_found");
      await criterion.getByLabel("Name").fill("Order found");
      await criterion.getByLabel("Goal").fill("The agent told the user where their order is.");
      await expectAccessible(page, "the new agent form");

      await page.getByRole("button", { name: "Create agent" }).click();
      await page.waitForURL(/\/agents\/agent_[a-z0-9]{28}$/);
      await expect.poll(() => page.getByRole("status").filter({ hasText: "Agent created." }).count()).toBe(1);
      agentId = /\/agents\/(agent_[a-z0-9]{28})$/.exec(page.url())?.[1] ?? "";

      const created = await readAgent(server, agentId);
      expect(created.name).toBe(NAME);
      const config = created.conversation_config as { agent: Json & { prompt: Json } };
      expect(config.agent.first_message).toBe(FIRST_MESSAGE);
      expect(config.agent.prompt.prompt).toBe(PROMPT);
      expect(config.agent.language).toBe("en");
      expect(config.agent.prompt.tools).toMatchObject([
        { type: "webhook", name: "lookup_order", api_schema: { method: "GET" } },
      ]);
      expect(
        (created.platform_settings as { evaluation: { criteria: unknown[] } }).evaluation.criteria,
      ).toEqual([
        {
          id: "order_found",
          name: "Order found",
          conversation_goal_prompt: "The agent told the user where their order is.",
        },
      ]);

      // Edit: the page shows what is stored; a changed prompt and a new data field are saved.
      await expect.poll(() => page.getByLabel("Prompt", { exact: true }).inputValue()).toBe(PROMPT);
      await page.getByLabel("Prompt", { exact: true }).fill(`${PROMPT} Be brief.`);
      await page.getByRole("button", { name: "Add data field" }).click();
      const field = page.getByRole("group", { name: "Data field 1" });
      await field.getByLabel("ID").fill("order_number");
      await field.getByLabel("Description").fill("The order number the user gave.");
      await page.getByLabel("Temperature").fill("0.4");
      await page.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => page.getByRole("status").filter({ hasText: "Saved." }).count()).toBe(1);

      const edited = await readAgent(server, agentId);
      const editedPrompt = (edited.conversation_config as { agent: { prompt: Json } }).agent.prompt;
      expect(editedPrompt.prompt).toBe(`${PROMPT} Be brief.`);
      expect(editedPrompt.temperature).toBe(0.4);
      expect(edited.platform_settings).toMatchObject({
        data_collection: { order_number: { type: "string", description: "The order number the user gave." } },
      });
      expect(edited.name).toBe(NAME);

      // A removed data field is removed from the stored agent (an update merges objects key by key,
      // so the page clears the old fields first); the rest stays.
      await page.getByRole("button", { name: "Remove data field 1" }).click();
      await page.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => page.getByRole("status").filter({ hasText: "Saved." }).count()).toBe(1);
      const trimmed = await readAgent(server, agentId);
      expect((trimmed.platform_settings as Json).data_collection).toEqual({});
      expect(
        (trimmed.platform_settings as { evaluation: { criteria: unknown[] } }).evaluation.criteria,
      ).toHaveLength(1);
      expect((trimmed.conversation_config as { agent: { prompt: Json } }).agent.prompt.temperature).toBe(0.4);

      // The list shows it, with its Talk and Edit links.
      await page.getByRole("link", { name: "Agents", exact: true }).first().click();
      const row = page.getByRole("row").filter({ hasText: agentId });
      await row.getByRole("link", { name: NAME, exact: true }).waitFor();
      expect(await row.getByRole("link", { name: `Talk to ${NAME}` }).getAttribute("href")).toBe(
        `/agents/${agentId}/talk`,
      );
      expect(await row.getByRole("link", { name: `Edit ${NAME}` }).getAttribute("href")).toBe(
        `/agents/${agentId}`,
      );
    } finally {
      await context.close();
    }
  }, 90_000);

  it("talks to the agent in text mode, ends with goodbye, and links the recorded conversation", async () => {
    expect(agentId).not.toBe("");
    const { context, page } = await newConsolePage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, server, "/agents");
      await page.getByRole("link", { name: `Talk to ${NAME}` }).click();
      await page.getByRole("heading", { level: 1, name: `Talk to ${NAME}` }).waitFor();
      await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Not started");
      expect(await page.getByLabel("Text").isChecked()).toBe(true);

      await page.getByRole("button", { name: "Start conversation" }).click();
      await waitForLine(page, "Agent", FIRST_MESSAGE);
      await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Connected");

      await page.getByLabel("Message").fill(QUESTION);
      await page.getByLabel("Message").press("Enter");
      await waitForLine(page, "Agent", `You said: ${QUESTION}`);
      await page.getByLabel("Message").fill("It was order 4417.");
      await page.getByRole("button", { name: "Send" }).click();
      await waitForLine(page, "Agent", "You said: It was order 4417.");
      expect(await transcriptLines(page)).toEqual([
        `Agent: ${FIRST_MESSAGE}`,
        `You: ${QUESTION}`,
        `Agent: You said: ${QUESTION}`,
        "You: It was order 4417.",
        "Agent: You said: It was order 4417.",
      ]);
      expect(await page.getByRole("log").getAttribute("aria-live")).toBe("polite");
      await screenshot(page, "talk");
      await expectAccessible(page, "Talk mid-conversation");

      await page.getByLabel("Message").fill("goodbye");
      await page.getByRole("button", { name: "Send" }).click();
      await waitForLine(page, "Agent", "Goodbye!");
      const conversationId = await recordedConversationId(page);
      await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Ended");
      expect(await page.getByRole("status").first().textContent()).toContain("The agent ended the call.");

      const stored = await readConversation(server, conversationId);
      expect(stored.agent_id).toBe(agentId);
      const said = (stored.transcript as { role: string; message: string | null }[])
        .filter((t) => t.message)
        .map((t) => [t.role, t.message]);
      expect(said.slice(0, 3)).toEqual([
        ["agent", FIRST_MESSAGE],
        ["user", QUESTION],
        ["agent", `You said: ${QUESTION}`],
      ]);
      expect(said.at(-1)).toEqual(["agent", "Goodbye!"]);

      // The link opens the conversation's page; the conversations list has its row.
      await page.getByRole("link", { name: "Open the recorded conversation" }).click();
      await page.waitForURL(new RegExp(`/conversations/${conversationId}$`));
      await page
        .getByRole("navigation", { name: "Main" })
        .getByRole("link", { name: "Conversations" })
        .click();
      await page.waitForURL(/\/conversations$/);
      await page.locator(`a[href="/conversations/${conversationId}"]`).first().waitFor();
      const listed = await server.fetch(`/v1/convai/conversations?agent_id=${agentId}`);
      const ids = (
        (await listed.json()) as { conversations: { conversation_id: string }[] }
      ).conversations.map((c) => c.conversation_id);
      expect(ids).toContain(conversationId);
    } finally {
      await context.close();
    }
  }, 90_000);

  it("talks in voice with the development voice: the microphone's speech is heard and answered", async () => {
    expect(agentId).not.toBe("");
    // Eager turn-taking, so the fake microphone's pauses end its turns (as the browser voice suites do).
    const patched = await server.fetch(`/v1/convai/agents/${agentId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conversation_config: { turn: { turn_eagerness: "eager" } } }),
    });
    expect(patched.status).toBe(200);
    const { context, page } = await newConsolePage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, server, `/agents/${agentId}/talk`);
      await page.getByLabel("Voice").check();
      await page.getByRole("button", { name: "Start conversation" }).click();
      await waitForLine(page, "Agent", FIRST_MESSAGE);
      await waitForLine(page, "You", /^\[speech \d+\.\d s\]$/);
      await waitForLine(page, "Agent", /^You said: \[speech \d+\.\d s\]/);
      await page.getByRole("button", { name: "End call" }).click();
      const conversationId = await recordedConversationId(page);
      expect(await page.getByRole("status").first().textContent()).toContain("You ended the call.");
      const stored = await readConversation(server, conversationId);
      expect((stored.metadata as Json).text_only).not.toBe(true);
      expect(
        (stored.transcript as { role: string; message: string | null }[]).some(
          (t) => t.role === "user" && /^\[speech /.test(t.message ?? ""),
        ),
      ).toBe(true);
    } finally {
      await context.close();
    }
  }, 90_000);

  for (const colorScheme of ["light", "dark"] as const) {
    for (const viewport of [DESKTOP, PHONE]) {
      it(`passes axe on the list, the form and Talk in ${colorScheme} at ${viewport.width} px`, async () => {
        expect(agentId).not.toBe("");
        const { context, page } = await newConsolePage(browser, { viewport, colorScheme });
        const where = `${colorScheme}, ${viewport.width} px`;
        try {
          await signIn(page, server, "/agents");
          await page.getByRole("link", { name: `Edit ${NAME}` }).waitFor();
          await expectAccessible(page, `the agents list (${where})`);
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

          await page.getByRole("link", { name: `Edit ${NAME}` }).click();
          await expect.poll(() => page.getByLabel("Name", { exact: true }).first().inputValue()).toBe(NAME);
          await page.getByRole("button", { name: "Add webhook tool" }).click();
          await expectAccessible(page, `the agent form (${where})`);
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

          await page.getByRole("link", { name: "Talk to this agent" }).click();
          await page.getByRole("button", { name: "Start conversation" }).click();
          await waitForLine(page, "Agent", FIRST_MESSAGE);
          await page.getByLabel("Message").fill(QUESTION);
          await page.getByRole("button", { name: "Send" }).click();
          await waitForLine(page, "Agent", `You said: ${QUESTION}`);
          await expectAccessible(page, `Talk (${where})`);
          expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
          await page.getByRole("button", { name: "End call" }).click();
          await recordedConversationId(page);
          await expectAccessible(page, `Talk after the call (${where})`);
        } finally {
          await context.close();
        }
      }, 90_000);
    }
  }

  it("deletes the agent after a confirmation", async () => {
    expect(agentId).not.toBe("");
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, `/agents/${agentId}`);
      await page.getByRole("button", { name: "Delete agent" }).click();
      await page.getByRole("heading", { name: "Delete this agent?" }).waitFor();
      await page.getByRole("button", { name: "Cancel" }).click();
      expect((await server.fetch(`/v1/convai/agents/${agentId}`)).status).toBe(200);
      await page.getByRole("button", { name: "Delete agent" }).click();
      await page.getByRole("button", { name: "Delete", exact: true }).click();
      await page.waitForURL(/\/agents$/);
      await expect.poll(() => page.getByRole("status").first().textContent()).toBe(`Deleted ${NAME}.`);
      await page.getByRole("link", { name: "Talk to Acme Store Support" }).waitFor();
      expect(await page.getByRole("row").filter({ hasText: agentId }).count()).toBe(0);
      expect((await server.fetch(`/v1/convai/agents/${agentId}`)).status).toBe(404);
    } finally {
      await context.close();
    }
  });

  it("shows the server's reason when a session cannot start", async () => {
    // A prompt placeholder with no value: the server refuses the session (close 1008) and says why.
    const response = await server.fetch("/v1/convai/agents/create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "Needs an order id",
        conversation_config: {
          agent: { first_message: "Hello.", prompt: { prompt: "Order {{order_id}}." } },
        },
      }),
    });
    const { agent_id: refusedId } = (await response.json()) as { agent_id: string };
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, `/agents/${refusedId}/talk`);
      await page.getByRole("heading", { level: 1, name: "Talk to Needs an order id" }).waitFor();
      await page.getByRole("button", { name: "Start conversation" }).click();
      await expect
        .poll(() => page.getByRole("alert").first().textContent())
        .toContain("missing_dynamic_variable: order_id");
      await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Not started");
      await expectAccessible(page, "Talk after a refused start");
    } finally {
      await context.close();
    }
  });
});
