/**
 * The console's page for one conversation: the transcript, analysis and facts of a demo
 * conversation as the API serves them; the recording plays, a turn seeks it and is marked while
 * heard; tags are created, assigned and removed through the API; the JSON downloads; deleting asks
 * first and then the conversation is gone; an unknown id says so. Checked with axe in light and
 * dark, at 1280 and 390 px.
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeChromium, launchChromium } from "../browser/support/chromium.js";
import {
  type ConsoleServer,
  DESKTOP,
  expectAccessible,
  newConsolePage,
  PHONE,
  screenshot,
  signIn,
  startConsoleServer,
} from "./support/console-harness.js";

interface Turn {
  role: string;
  message: string | null;
  time_in_call_secs: number;
  tool_calls?: { tool_name: string; params_as_json: string }[];
}

interface Doc {
  conversation_id: string;
  transcript: Turn[];
  analysis: {
    transcript_summary: string;
    call_summary_title: string;
    evaluation_criteria_results: Record<string, { criteria_id: string; result: string; rationale: string }>;
    data_collection_results: Record<
      string,
      { data_collection_id: string; value: unknown; rationale: string }
    >;
  };
}

/**
 * How long the recording may take to fetch and decode: longer than an ordinary UI wait, as the
 * decoding is CPU-bound and the test machine may be busy.
 */
const AUDIO_READY_MS = 40_000;

/** How long a test that loads the recording may take. */
const AUDIO_TEST_MS = 90_000;

/** "m:ss", as the page writes a time in the call. */
function mss(secs: number): string {
  return `${Math.floor(secs / 60)}:${String(Math.round(secs) % 60).padStart(2, "0")}`;
}

describe("console conversation page", () => {
  let server: ConsoleServer;
  let browser: Browser;
  /** The demo conversation the page is checked on: the one with the most tool calls and audio. */
  let doc: Doc;

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchChromium();
    const docs = server.demo as unknown as Doc[];
    const withTools = docs.filter((d) => d.transcript.some((t) => (t.tool_calls ?? []).length > 0));
    const chosen = withTools[0];
    if (!chosen) throw new Error("no demo conversation has a tool call");
    doc = chosen;
  });

  afterAll(async () => {
    await closeChromium(browser);
    await server?.stop();
  });

  /** The transcript's turns (its list's own items, not the lists inside a turn). */
  function transcriptTurns(page: Page) {
    return page.getByRole("region", { name: "Transcript turns" }).locator("ol.transcript > li");
  }

  async function open(page: Page, id: string): Promise<void> {
    await signIn(page, server, `/conversations/${id}`);
    await page.getByRole("heading", { level: 2, name: "Transcript" }).waitFor();
  }

  it("shows the transcript, the analysis and the facts of the document, with tool calls expandable", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await open(page, doc.conversation_id);
      await expect
        .poll(() => page.getByRole("heading", { level: 1 }).textContent())
        .toBe(doc.analysis.call_summary_title);
      const turns = transcriptTurns(page);
      expect(await turns.count()).toBe(doc.transcript.length);
      for (const [i, turn] of doc.transcript.entries()) {
        if (turn.message) expect(await turns.nth(i).textContent()).toContain(turn.message);
      }
      expect(await page.locator(".analysis-summary").textContent()).toBe(doc.analysis.transcript_summary);
      const evaluations = page.getByRole("list", { name: "Evaluation results" }).getByRole("listitem");
      const criteria = Object.values(doc.analysis.evaluation_criteria_results);
      expect(await evaluations.count()).toBe(criteria.length);
      for (const [i, c] of criteria.entries()) {
        const text = await evaluations.nth(i).textContent();
        expect(text).toContain(c.criteria_id);
        expect(text).toContain(c.result);
        expect(text).toContain(c.rationale);
      }
      const collected = await page.getByRole("list", { name: "Data collected" }).textContent();
      for (const d of Object.values(doc.analysis.data_collection_results)) {
        expect(collected).toContain(d.data_collection_id);
        expect(collected).toContain(d.rationale);
      }
      // A tool call, folded until opened.
      const call = doc.transcript.flatMap((t) => t.tool_calls ?? [])[0];
      if (!call) throw new Error("the chosen conversation has no tool call");
      const details = page.locator("details.tool", { hasText: `Tool call: ${call.tool_name}` }).first();
      const params = details.locator("pre");
      expect(await params.isVisible()).toBe(false);
      await details.locator("summary").click();
      await params.waitFor({ state: "visible" });
      expect(JSON.parse((await params.textContent()) ?? "")).toEqual(JSON.parse(call.params_as_json));
      // Facts: the conversation's id and its duration.
      const facts = await page.locator("dl.facts").first().textContent();
      expect(facts).toContain(doc.conversation_id);
    } finally {
      await context.close();
    }
  });

  it(
    "plays the recording, seeks to a turn when its time is clicked, and marks the turn heard",
    async () => {
      const { context, page } = await newConsolePage(browser);
      try {
        await open(page, doc.conversation_id);
        const player = page.locator(".conversation-player");
        await expect.poll(() => player.getAttribute("data-state"), { timeout: AUDIO_READY_MS }).toBe("ready");
        await page.getByRole("button", { name: "Play", exact: true }).click();
        await expect.poll(() => player.getAttribute("data-playing")).toBe("true");
        await expect
          .poll(async () => Number(await player.getAttribute("data-current-time")))
          .toBeGreaterThan(0);
        // A turn well into the call, with a message.
        const index = doc.transcript.findIndex((t) => t.message && t.time_in_call_secs >= 30);
        const target = doc.transcript[index];
        if (!target) throw new Error("no turn 30 s into the call");
        const turns = transcriptTurns(page);
        await turns
          .nth(index)
          .getByRole("button", { name: `Play from ${mss(target.time_in_call_secs)}` })
          .click();
        await expect
          .poll(async () => Number(await player.getAttribute("data-current-time")))
          .toBeGreaterThanOrEqual(target.time_in_call_secs);
        expect(Number(await player.getAttribute("data-current-time"))).toBeLessThan(
          target.time_in_call_secs + 5,
        );
        expect(await page.getByTestId("player-time").textContent()).toMatch(/^\d+:\d\d \/ \d+:\d\d$/);
        await expect.poll(() => turns.nth(index).getAttribute("aria-current")).toBe("true");
        expect(await turns.nth(index).getAttribute("class")).toContain("turn-active");
        expect(await page.locator('[aria-current="true"].turn').count()).toBe(1);
        await page.getByRole("button", { name: "Pause" }).click();
        await expect.poll(() => player.getAttribute("data-playing")).toBe("false");
      } finally {
        await context.close();
      }
    },
    AUDIO_TEST_MS,
  );

  it("creates a tag and assigns it, assigns an existing one, and removes them, as the API shows", async () => {
    const { context, page } = await newConsolePage(browser);
    const tagIdsOnServer = async (): Promise<string[]> => {
      const response = await server.fetch(`/v1/convai/conversations/${doc.conversation_id}`);
      return ((await response.json()) as { tag_ids?: string[] }).tag_ids ?? [];
    };
    try {
      await open(page, doc.conversation_id);
      const before = await tagIdsOnServer();
      await page.getByLabel("New tag").fill("Needs review");
      await page.getByRole("button", { name: "Create and assign" }).click();
      const assigned = page.getByRole("list", { name: "Assigned tags" });
      await expect.poll(() => assigned.textContent()).toContain("Needs review");
      const tags = (await (await server.fetch("/v1/convai/tags?page_size=100")).json()) as {
        conversation_tags: { tag_id: string; title: string }[];
      };
      const created = tags.conversation_tags.find((t) => t.title === "Needs review");
      if (!created) throw new Error("the tag was not created");
      await expect.poll(tagIdsOnServer).toContain(created.tag_id);

      // An existing tag (the demo's), chosen from the list.
      const existing = tags.conversation_tags.find((t) => t.title === "Escalated");
      if (!existing) throw new Error("the demo tag is missing");
      if (!before.includes(existing.tag_id)) {
        await page.getByLabel("Assign a tag").selectOption({ label: "Escalated" });
        await page.getByRole("button", { name: "Assign", exact: true }).click();
        await expect.poll(tagIdsOnServer).toContain(existing.tag_id);
        await page.getByRole("button", { name: "Remove tag Escalated" }).click();
        await expect.poll(tagIdsOnServer).not.toContain(existing.tag_id);
      }

      await page.getByRole("button", { name: "Remove tag Needs review" }).click();
      await expect.poll(tagIdsOnServer).not.toContain(created.tag_id);
      // The pressed button is gone: focus goes to the next remove button, or the tag select.
      await expect
        .poll(() =>
          page.evaluate(() => {
            const el = document.activeElement;
            return el?.tagName === "SELECT" ? "select" : (el?.getAttribute("aria-label") ?? el?.tagName);
          }),
        )
        .toMatch(/^(select|Remove tag .+)$/);
      expect(await tagIdsOnServer()).toEqual(before);
      await expect.poll(() => page.getByRole("status").filter({ hasText: "Removed" }).count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it("downloads the conversation's JSON", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await open(page, doc.conversation_id);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Download JSON" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${doc.conversation_id}.json`);
      const file = await download.path();
      const parsed = JSON.parse(readFileSync(file, "utf8")) as {
        conversation_id: string;
        transcript: unknown[];
      };
      expect(parsed.conversation_id).toBe(doc.conversation_id);
      expect(parsed.transcript).toHaveLength(doc.transcript.length);

      const [audio] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Download audio" }).click(),
      ]);
      expect(audio.suggestedFilename()).toBe(`${doc.conversation_id}.mp3`);
      const bytes = readFileSync(await audio.path());
      const served = Buffer.from(
        await (await server.fetch(`/v1/convai/conversations/${doc.conversation_id}/audio`)).arrayBuffer(),
      );
      expect(bytes.equals(served)).toBe(true);
    } finally {
      await context.close();
    }
  });

  it("deletes a conversation after a confirmation, then says an unknown one does not exist", async () => {
    const victim = (server.demo as unknown as Doc[]).find((d) => d.conversation_id !== doc.conversation_id);
    if (!victim) throw new Error("no second demo conversation");
    const { context, page } = await newConsolePage(browser);
    try {
      await open(page, victim.conversation_id);
      const opener = page.getByRole("button", { name: "Delete conversation" });
      await opener.click();
      const dialog = page.getByRole("dialog", { name: "Delete this conversation?" });
      await dialog.waitFor();
      // The dialog opens on the safe choice, and Cancel gives the focus back.
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "hidden" });
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Delete conversation");
      expect((await server.fetch(`/v1/convai/conversations/${victim.conversation_id}`)).status).toBe(200);

      await opener.click();
      await dialog.getByRole("button", { name: "Delete", exact: true }).click();
      await page.waitForURL(`${server.url}/conversations`);
      expect((await server.fetch(`/v1/convai/conversations/${victim.conversation_id}`)).status).toBe(404);
      // The list says so, and focus is on its heading (the pressed button went with its page).
      await page
        .getByRole("status")
        .filter({ hasText: `Conversation ${victim.conversation_id} was deleted.` })
        .waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("H1");

      await page.goto(`${server.url}/conversations/${victim.conversation_id}`);
      await page.getByRole("heading", { level: 1, name: "Conversation not found" }).waitFor();
      await page.getByRole("link", { name: "Back to the conversations" }).click();
      await page.waitForURL(`${server.url}/conversations`);
    } finally {
      await context.close();
    }
  });

  for (const colorScheme of ["light", "dark"] as const) {
    for (const viewport of [DESKTOP, PHONE]) {
      it(
        `passes axe in ${colorScheme} mode at ${viewport.width} px`,
        async () => {
          const { context, page } = await newConsolePage(browser, { viewport, colorScheme });
          try {
            await open(page, doc.conversation_id);
            await expect
              .poll(() => page.locator(".conversation-player").getAttribute("data-state"), {
                timeout: AUDIO_READY_MS,
              })
              .toBe("ready");
            // With a tool call open and a turn marked, so their colours are checked too.
            await page.locator("details.tool summary").first().click();
            await page
              .getByRole("button", { name: /^Play from / })
              .nth(2)
              .click();
            await expect.poll(() => page.locator('.turn[aria-current="true"]').count()).toBe(1);
            await expectAccessible(page, `the conversation page (${colorScheme}, ${viewport.width} px)`);
            const overflow = await page.evaluate(
              () => document.documentElement.scrollWidth - window.innerWidth,
            );
            expect(overflow).toBeLessThanOrEqual(0);
            if (colorScheme === "light" && viewport === DESKTOP) {
              await page.locator("details.tool summary").first().click();
              await page.evaluate(() => window.scrollTo(0, 0));
              await screenshot(page, "conversation");
            }
          } finally {
            await context.close();
          }
        },
        AUDIO_TEST_MS,
      );
    }
  }
});
