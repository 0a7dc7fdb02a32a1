/**
 * The Overview page (`/`): its figures are the demo conversations' own, counted here from the
 * documents by the rules the page states (finished conversations, by the UTC day they started;
 * success rate = successful / (successful + failed); p90 by nearest rank), independently of the
 * server. The agent filter and the period are in the URL; the page passes axe in light and dark,
 * at 1280 and 390 px, without overflowing the phone's width.
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

/** The parts of a demo document the overview counts. */
interface Doc {
  agent_id: string;
  agent_name?: string;
  status: string;
  metadata: { start_time_unix_secs: number; call_duration_secs: number };
  analysis?: {
    call_successful?: string;
    evaluation_criteria_results?: Record<string, { criteria_id: string; result: string }>;
  };
  transcript?: { tool_calls?: { tool_name?: string }[] }[];
}

/** The figures of a set of conversations, as the page should show them. */
interface Expected {
  conversations: number;
  successful: number;
  failed: number;
  unknown: number;
  successRate: number | null;
  average: number | null;
  p90: number | null;
}

const DAY_MS = 86_400_000;

function utcDay(unixSecs: number): string {
  return new Date(unixSecs * 1000).toISOString().slice(0, 10);
}

function figures(docs: Doc[]): Expected {
  const result = (d: Doc) => d.analysis?.call_successful;
  const successful = docs.filter((d) => result(d) === "success").length;
  const failed = docs.filter((d) => result(d) === "failure").length;
  const durations = docs.map((d) => Math.round(d.metadata.call_duration_secs)).sort((a, b) => a - b);
  const sum = durations.reduce((a, b) => a + b, 0);
  return {
    conversations: docs.length,
    successful,
    failed,
    unknown: docs.length - successful - failed,
    successRate: successful + failed === 0 ? null : successful / (successful + failed),
    average: docs.length === 0 ? null : Math.round((sum / docs.length) * 10) / 10,
    p90: docs.length === 0 ? null : (durations[Math.ceil(0.9 * docs.length) - 1] ?? null),
  };
}

/** What the page should show for `docs` over the days `from`..`to` (UTC, inclusive). */
function expectedOverview(all: Doc[], from: string, to: string, agentId?: string) {
  const docs = all.filter((d) => {
    const day = utcDay(d.metadata.start_time_unix_secs);
    return (
      (d.status === "done" || d.status === "failed") &&
      day >= from &&
      day <= to &&
      (agentId === undefined || d.agent_id === agentId)
    );
  });
  const days: { date: string; figures: Expected }[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY_MS) {
    const date = new Date(t).toISOString().slice(0, 10);
    days.push({
      date,
      figures: figures(docs.filter((d) => utcDay(d.metadata.start_time_unix_secs) === date)),
    });
  }
  const criteria = new Map<string, { success: number; failure: number; unknown: number }>();
  const tools = new Map<string, number>();
  for (const doc of docs) {
    for (const r of Object.values(doc.analysis?.evaluation_criteria_results ?? {})) {
      const entry = criteria.get(r.criteria_id) ?? { success: 0, failure: 0, unknown: 0 };
      const key = r.result === "success" || r.result === "failure" ? r.result : "unknown";
      entry[key]++;
      criteria.set(r.criteria_id, entry);
    }
    const used = new Set<string>();
    for (const entry of doc.transcript ?? []) {
      for (const call of entry.tool_calls ?? []) if (call.tool_name) used.add(call.tool_name);
    }
    for (const name of used) tools.set(name, (tools.get(name) ?? 0) + 1);
  }
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    totals: figures(docs),
    days,
    criteria: [...criteria.entries()]
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([id, c]) => [id, String(c.success), String(c.failure), String(c.unknown)]),
    tools: [...tools.entries()]
      .sort(([a, m], [b, n]) => n - m || byCodeUnit(a, b))
      .slice(0, 10)
      .map(([name, n]) => [name, String(n)]),
  };
}

/** "0:37" for 37 s (the page's clock format); "—" when unknown. */
function clock(secs: number | null): string {
  if (secs === null) return "—";
  const s = Math.round(secs);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function percent(share: number | null): string {
  return share === null ? "—" : `${Math.round(share * 100)}%`;
}

/** The text of the stat card named `label` (its value and detail). */
async function stat(page: Page, label: string): Promise<string> {
  const value = page.locator(".overview-stat", { has: page.getByRole("term").filter({ hasText: label }) });
  return (await value.locator(".overview-stat-value").textContent())?.trim() ?? "";
}

/** The rows of the table under a chart's "Show the numbers", as cell texts. */
async function numbers(page: Page, chart: string): Promise<string[][]> {
  const figure = page.getByRole("figure", { name: chart });
  const details = figure.locator("details");
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) {
    await figure.getByText("Show the numbers").click();
  }
  const table = figure.getByRole("table", { name: chart });
  return table
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent?.trim() ?? "")));
}

/** Checks every figure the page shows against what the documents say. */
async function expectFigures(page: Page, expected: ReturnType<typeof expectedOverview>): Promise<void> {
  const { totals } = expected;
  await expect.poll(() => stat(page, "Conversations")).toBe(String(totals.conversations));
  expect(await stat(page, "Success rate")).toBe(percent(totals.successRate));
  expect(await stat(page, "Average duration")).toBe(clock(totals.average));
  expect(await stat(page, "p90 duration")).toBe(clock(totals.p90));
  expect(await numbers(page, "Conversations per day")).toEqual(
    expected.days.map(({ date, figures: f }) => [
      date,
      String(f.successful),
      String(f.failed),
      String(f.unknown),
      String(f.conversations),
    ]),
  );
  expect(await numbers(page, "Success rate per day")).toEqual(
    expected.days.map(({ date, figures: f }) => [date, percent(f.successRate)]),
  );
  const seconds = (n: number | null) => (n === null ? "—" : `${n} s`);
  expect(await numbers(page, "Duration per day")).toEqual(
    expected.days.map(({ date, figures: f }) => [date, seconds(f.average), seconds(f.p90)]),
  );
  expect(await numbers(page, "Evaluation results per criterion")).toEqual(expected.criteria);
  expect(await numbers(page, "Most used tools")).toEqual(expected.tools);
}

/** Waits until the five charts are drawn (chart.js loads after the page). */
async function waitForCharts(page: Page): Promise<void> {
  await expect
    .poll(() =>
      page
        .locator(".overview-figure canvas")
        .evaluateAll((canvases) => canvases.filter((c) => (c as HTMLCanvasElement).width > 0).length),
    )
    .toBe(5);
  // Let the short drawing animation finish.
  await page.waitForTimeout(500);
}

function daysBefore(date: string, days: number): string {
  return new Date(Date.parse(date) - days * DAY_MS).toISOString().slice(0, 10);
}

describe("console overview", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let docs: Doc[];

  beforeAll(async () => {
    server = await startConsoleServer();
    docs = server.demo as unknown as Doc[];
    // The demo agents come with the demo data, so the agent filter lists them.
    const agents = await server.fetch("/v1/convai/agents");
    const listed = ((await agents.json()) as { agents: { agent_id: string }[] }).agents.map(
      (a) => a.agent_id,
    );
    expect(new Set(listed)).toEqual(new Set(docs.map((d) => d.agent_id)));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await closeChromium(browser);
    await server?.stop();
  });

  it("shows the last 30 days' figures of the demo data, then one agent's, kept in the URL", async () => {
    const { context, page } = await newConsolePage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, server, "/");
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      const today = new Date().toISOString().slice(0, 10);
      const from = daysBefore(today, 29);
      await expect
        .poll(() => page.getByRole("button", { name: "Last 30 days" }).getAttribute("aria-pressed"))
        .toBe("true");
      const all = expectedOverview(docs, from, today);
      expect(all.totals.conversations).toBeGreaterThan(0);
      await expectFigures(page, all);
      await waitForCharts(page);
      const labels = await page
        .locator(".overview-figure canvas")
        .evaluateAll((canvases) =>
          canvases.map((c) => `${c.getAttribute("role")}:${c.getAttribute("aria-label")}`),
        );
      expect(labels[0]).toContain(`${all.totals.conversations} conversations in all`);
      for (const label of labels) expect(label).toMatch(/^img:.{20,}/);
      await expectAccessible(page, "the overview (light, 1280 px)");
      for (const details of await page.locator("details").all())
        await details.evaluate((d) => d.removeAttribute("open"));
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, "overview");

      // The charts are drawn again in the dark scheme's colours when the system switches.
      const drawing = () =>
        page
          .locator(".overview-figure canvas")
          .first()
          .evaluate((c) => (c as HTMLCanvasElement).toDataURL());
      const light = await drawing();
      await page.emulateMedia({ colorScheme: "dark" });
      await expect.poll(drawing).not.toBe(light);
      await page.emulateMedia({ colorScheme: "light" });

      const agentId = "agent_demo_store_support";
      const name = docs.find((d) => d.agent_id === agentId)?.agent_name ?? agentId;
      await page.getByLabel("Agent", { exact: true }).selectOption({ label: name });
      await expect.poll(() => new URL(page.url()).searchParams.get("agent_id")).toBe(agentId);
      const one = expectedOverview(docs, from, today, agentId);
      expect(one.totals.conversations).toBeLessThan(all.totals.conversations);
      await expectFigures(page, one);

      // The address keeps the view: opened again, it shows the same agent's figures.
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      expect(await page.getByLabel("Agent", { exact: true }).inputValue()).toBe(agentId);
      await expectFigures(page, one);

      // Back to all agents, and a custom period of today only.
      await page.getByLabel("Agent", { exact: true }).selectOption({ label: "All agents" });
      await expect.poll(() => new URL(page.url()).searchParams.get("agent_id")).toBeNull();
      await page.getByLabel("From", { exact: true }).fill(today);
      await expect.poll(() => new URL(page.url()).searchParams.get("date_from")).toBe(today);
      await expect
        .poll(() => page.getByRole("button", { name: "Last 30 days" }).getAttribute("aria-pressed"))
        .toBe("false");
      const todayOnly = expectedOverview(docs, today, today);
      if (todayOnly.totals.conversations > 0) await expectFigures(page, todayOnly);
      else await page.getByText("No finished conversations in this period").waitFor();
    } finally {
      await context.close();
    }
  });

  it("says so when the period has no finished conversations, and how to widen it", async () => {
    const { context, page } = await newConsolePage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, server, "/?date_from=2020-01-01&date_to=2020-01-31");
      await page.getByText("No finished conversations in this period").waitFor();
      expect(await stat(page, "Conversations")).toBe("0");
      expect(await page.getByText("npx openconvai seed --demo").count()).toBe(1);
      expect(await page.getByRole("figure").count()).toBe(0);
      await page.getByRole("button", { name: "Last 7 days" }).click();
      await expect
        .poll(() => new URL(page.url()).searchParams.get("date_to"))
        .toBe(new Date().toISOString().slice(0, 10));
      await expect.poll(() => stat(page, "Conversations")).not.toBe("0");
    } finally {
      await context.close();
    }
  });

  it("says what to pick when the URL's period is not a day, instead of going blank", async () => {
    const { context, page } = await newConsolePage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, server, "/?date_to=abc");
      await expect
        .poll(() => page.getByRole("alert").textContent())
        .toContain("Pick both a start and an end day.");
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      await page.getByRole("button", { name: "Last 7 days" }).click();
      await expect.poll(() => stat(page, "Conversations")).not.toBe("0");
    } finally {
      await context.close();
    }
  });

  for (const colorScheme of ["light", "dark"] as const) {
    for (const viewport of [DESKTOP, PHONE]) {
      it(`passes axe in ${colorScheme} mode at ${viewport.width} px, within the screen's width`, async () => {
        const { context, page } = await newConsolePage(browser, { viewport, colorScheme });
        try {
          await signIn(page, server, "/");
          await waitForCharts(page);
          for (const summary of await page.getByText("Show the numbers").all()) await summary.click();
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          expect(overflow).toBeLessThanOrEqual(0);
          await expectAccessible(page, `the overview (${colorScheme}, ${viewport.width} px)`);
        } finally {
          await context.close();
        }
      });
    }
  }
});
