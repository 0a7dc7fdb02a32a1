/**
 * The console's conversations list and message search: the table shows the stored conversations,
 * every filter lives in the URL under the API's own name (a reload keeps the view), full-text
 * search finds a transcript, the keyboard opens a row, the list pages by cursor as it scrolls, and
 * message search finds a message. Both pages pass axe in light and dark at both widths.
 */
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

type Doc = Record<string, unknown>;

function idOf(doc: Doc): string {
  return String(doc.conversation_id);
}

function successOf(doc: Doc): string {
  return String((doc.analysis as { call_successful?: string } | undefined)?.call_successful ?? "unknown");
}

function messagesOf(doc: Doc): string[] {
  const transcript = (doc.transcript as { message?: unknown }[] | undefined) ?? [];
  return transcript.map((t) => (typeof t.message === "string" ? t.message : ""));
}

/** The conversation ids of the table's rows, top to bottom (read from each row's link). */
async function rowIds(page: Page): Promise<string[]> {
  const hrefs = await page
    .getByRole("table")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.href ?? ""));
  return hrefs.map((h) => decodeURIComponent(h.replace(/^\/conversations\//, "")));
}

/** Waits until the table's rows are `ids`, in order. */
async function expectRows(page: Page, ids: string[]): Promise<void> {
  await expect.poll(() => rowIds(page), { timeout: 15_000 }).toEqual(ids);
}

/** How far the page is wider than the window (0 or less: no horizontal scrolling). */
function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

describe("console conversations list and message search", () => {
  let server: ConsoleServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await closeChromium(browser);
    await server?.stop();
  });

  it("shows the demo conversations with their agent, success, rating and tag names", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations");
      await page.getByRole("heading", { level: 1, name: "Conversations" }).waitFor();
      await expectRows(page, server.demo.map(idOf));
      const headers = await page.getByRole("columnheader").allTextContents();
      expect(headers).toEqual([
        "Agent",
        "Start",
        "Duration",
        "Messages",
        "Status",
        "Success",
        "Rating",
        "Tags",
      ]);

      // The first row is the newest demo conversation: its agent's name, rating and result.
      const newest = server.demo[0] as Doc;
      const first = page.getByRole("table").locator("tbody tr").first();
      expect(await first.textContent()).toContain(String(newest.agent_name));
      const rating = (newest.metadata as { feedback?: { rating?: number } }).feedback?.rating;
      expect(rating).toBeDefined();
      expect(await first.getByRole("cell").nth(6).textContent()).toBe(`${rating}/5`);
      expect(await first.getByRole("cell").nth(5).textContent()).toBe(successOf(newest));

      // Tag ids show as the tags' titles (GET /v1/convai/tags).
      const tagged = server.demo.find((d) => Array.isArray(d.tag_ids) && d.tag_ids.length > 0) as Doc;
      const tagsAnswer = (await (await server.fetch("/v1/convai/tags")).json()) as {
        conversation_tags: { tag_id: string; title: string }[];
      };
      const title = tagsAnswer.conversation_tags.find(
        (t) => t.tag_id === (tagged.tag_ids as string[])[0],
      )?.title;
      expect(title).toBeTruthy();
      const taggedRow = page.locator(`tbody tr[data-href="/conversations/${idOf(tagged)}"]`);
      await expect.poll(() => taggedRow.getByRole("cell").nth(7).textContent()).toBe(title);

      await screenshot(page, "conversations");
    } finally {
      await context.close();
    }
  });

  it("filters by agent and by call_successful, keeps the filters in the URL and across a reload", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations");
      await expectRows(page, server.demo.map(idOf));
      const agentId = "agent_demo_store_support";
      await page.getByLabel("Agent", { exact: true }).selectOption(agentId);
      await expectRows(page, server.demo.filter((d) => d.agent_id === agentId).map(idOf));
      await page.getByLabel("Success", { exact: true }).selectOption("failure");
      const expected = server.demo
        .filter((d) => d.agent_id === agentId && successOf(d) === "failure")
        .map(idOf);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(server.demo.length);
      await expectRows(page, expected);

      const url = new URL(page.url());
      expect(url.pathname).toBe("/conversations");
      expect(url.searchParams.get("agent_id")).toBe(agentId);
      expect(url.searchParams.get("call_successful")).toBe("failure");

      await page.reload();
      await expectRows(page, expected);
      expect(await page.getByLabel("Agent", { exact: true }).inputValue()).toBe(agentId);
      expect(await page.getByLabel("Success", { exact: true }).inputValue()).toBe("failure");

      // Clearing the filters brings every conversation back.
      await page.getByRole("button", { name: "Clear filters" }).first().click();
      await expectRows(page, server.demo.map(idOf));
      expect(new URL(page.url()).search).toBe("");
    } finally {
      await context.close();
    }
  });

  it("says so when nothing matches, and offers to clear the filters", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations?user_id=nobody_at_all");
      await page.getByText("No conversations match these filters.").waitFor();
      // A filter of "More filters" that is set opens the disclosure and shows its value.
      expect(await page.getByLabel("User id").inputValue()).toBe("nobody_at_all");
      await page.getByRole("button", { name: "Clear filters" }).first().click();
      await expectRows(page, server.demo.map(idOf));
    } finally {
      await context.close();
    }
  });

  it("explains a filter the server refuses and offers to clear the filters", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations?rating_min=9");
      const alert = page.getByRole("alert");
      await expect.poll(() => alert.textContent()).toContain("rating_min");
      expect(await alert.textContent()).toContain("Check the filters");
      await page.getByRole("button", { name: "Clear filters" }).first().click();
      await expectRows(page, server.demo.map(idOf));
      expect(await page.getByRole("alert").count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it("finds a conversation by a word of its transcript, and links the words to message search", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations");
      await expectRows(page, server.demo.map(idOf));
      const word = "blender";
      const expected = server.demo
        .filter((d) => messagesOf(d).some((m) => m.toLowerCase().includes(word)))
        .map(idOf);
      expect(expected).toHaveLength(1);
      // "/" goes to the search box.
      await page.locator("body").press("/");
      const box = page.getByRole("searchbox", { name: "Search" });
      await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
      await box.fill(word);
      await box.press("Enter");
      await expectRows(page, expected);
      expect(new URL(page.url()).searchParams.get("search")).toBe(word);
      expect(await page.getByRole("link", { name: "Search in messages" }).getAttribute("href")).toBe(
        `/messages?q=${word}`,
      );
      // A space typed at the end survives the pause that writes the (trimmed) search to the URL.
      await box.fill("");
      await box.pressSequentially("abc ");
      await expect.poll(() => new URL(page.url()).searchParams.get("search")).toBe("abc");
      await box.pressSequentially("def");
      expect(await box.inputValue()).toBe("abc def");
      await expect.poll(() => new URL(page.url()).searchParams.get("search")).toBe("abc def");
    } finally {
      await context.close();
    }
  });

  it("opens a conversation from the keyboard (ArrowDown, Enter)", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations");
      await expectRows(page, server.demo.map(idOf));
      // The first row is the one in the tab order.
      await page.getByRole("table").locator('tbody tr[tabindex="0"]').focus();
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowUp");
      await page.keyboard.press("Enter");
      await page.waitForURL((u) => u.pathname !== "/conversations");
      expect(new URL(page.url()).pathname).toBe(`/conversations/${idOf(server.demo[1] as Doc)}`);
    } finally {
      await context.close();
    }
  });

  it("finds a message on the message search page, with its speaker and conversation", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/messages");
      await page.getByRole("heading", { level: 1, name: "Message search" }).waitFor();
      await page.getByLabel("Words in messages").fill("blender");
      await page.getByRole("button", { name: "Search" }).click();
      const doc = server.demo.find((d) =>
        messagesOf(d).some((m) => m.toLowerCase().includes("blender")),
      ) as Doc;
      const transcript = doc.transcript as { role: string; message?: string }[];
      const hits = transcript.filter((t) => t.message?.toLowerCase().includes("blender"));
      const items = page.getByRole("listitem").filter({ has: page.locator("mark") });
      await expect.poll(() => items.count()).toBe(hits.length);
      const first = items.first();
      expect((await first.locator("mark").first().textContent())?.toLowerCase()).toBe("blender");
      const link = first.getByRole("link");
      expect(await link.getAttribute("href")).toBe(`/conversations/${idOf(doc)}`);
      await expect.poll(() => first.locator(".messages-role").textContent()).toMatch(/^(user|agent)$/);
      expect(new URL(page.url()).searchParams.get("q")).toBe("blender");
    } finally {
      await context.close();
    }
  });

  for (const viewport of [DESKTOP, PHONE]) {
    for (const colorScheme of ["light", "dark"] as const) {
      const what = `${viewport.width} px, ${colorScheme}`;
      it(`passes axe on both pages at ${what}, without horizontal overflow`, async () => {
        const { context, page } = await newConsolePage(browser, { viewport, colorScheme });
        try {
          await signIn(page, server, "/conversations");
          await expectRows(page, server.demo.map(idOf));
          await page.getByText("More filters").click();
          await page.getByLabel("Duration at least (s)").waitFor();
          await expectAccessible(page, `the conversations list (${what})`);
          expect(await horizontalOverflow(page), `overflow of the list at ${what}`).toBeLessThanOrEqual(0);

          await page.goto(`${server.url}/messages?q=refund`);
          await page.locator("mark").first().waitFor();
          await expectAccessible(page, `message search (${what})`);
          expect(await horizontalOverflow(page), `overflow of message search at ${what}`).toBeLessThanOrEqual(
            0,
          );
        } finally {
          await context.close();
        }
      }, 90_000);
    }
  }

  // Last: it adds conversations the tests above do not expect.
  it("pages by cursor: scrolling to the end loads the rest, and Load more does too", async () => {
    const template = server.demo[server.demo.length - 1] as Doc;
    const oldest = Number((template.metadata as { start_time_unix_secs: number }).start_time_unix_secs);
    const extra: string[] = [];
    for (let i = 1; i <= 40; i++) {
      const id = `conv_list_extra_${String(i).padStart(2, "0")}`;
      const doc = structuredClone(template);
      doc.conversation_id = id;
      (doc.metadata as { start_time_unix_secs: number }).start_time_unix_secs = oldest - i * 60;
      const answer = await server.fetch(`/ingest/v1/conversations/${id}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(doc),
      });
      expect(answer.status).toBe(201);
      extra.push(id);
    }
    const all = [...server.demo.map(idOf), ...extra];

    const { context, page } = await newConsolePage(browser);
    try {
      await signIn(page, server, "/conversations");
      // The first page is the API's default page size (30).
      await expect.poll(() => rowIds(page)).toHaveLength(30);
      expect(await rowIds(page)).toEqual(all.slice(0, 30));
      await page.getByRole("table").locator("tbody tr").last().scrollIntoViewIfNeeded();
      await page.mouse.wheel(0, 5000);
      await expectRows(page, all);
      expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    } finally {
      await context.close();
    }

    // Without IntersectionObserver nothing loads by itself: "Load more" pages alone (keyboard users'
    // way), here with a small page size (a filter like any other).
    const second = await newConsolePage(browser);
    try {
      await second.page.addInitScript(() => {
        Reflect.deleteProperty(window, "IntersectionObserver");
      });
      await signIn(second.page, server, "/conversations?page_size=10");
      await expectRows(second.page, all.slice(0, 10));
      const more = second.page.getByRole("button", { name: "Load more" });
      for (let shown = 10; shown < all.length; shown = Math.min(all.length, shown + 10)) {
        await more.focus();
        await second.page.keyboard.press("Enter");
        await expectRows(second.page, all.slice(0, Math.min(all.length, shown + 10)));
      }
      expect(await more.count()).toBe(0);
    } finally {
      await second.context.close();
    }
  }, 120_000);
});
