/**
 * The console's end-to-end tests: a listening openconvai with the demo data and the console built
 * from this checkout (test/support/global-setup.ts builds it once per run), driven in headless
 * Chromium by playwright-core. Helpers here sign in, check a page with axe-core, and take the
 * screenshots docs/ shows.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect, inject } from "vitest";
import { loadDemoConversations, loadDemoDefinitions } from "../../../src/ingest/demo-conversations.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

/** How long a wait on the page may last before the test fails. */
export const UI_WAIT_MS = 15_000;

/** The two widths the console is laid out for. */
export const DESKTOP = { width: 1280, height: 860 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** A server for the console tests. */
export interface ConsoleServer extends TestServer {
  /** The demo conversations loaded at start, as stored (newest first, as the list shows them). */
  demo: Record<string, unknown>[];
}

/**
 * Starts openconvai on SQLite with the console and the demo data (tags, topics, a dozen
 * conversations with audio). `env` adds settings (a webhook receiver's private address, say).
 */
export async function startConsoleServer(env: Record<string, string> = {}): Promise<ConsoleServer> {
  const server = await startTestServer("sqlite", { OPENCONVAI_CONSOLE_DIR: inject("consoleDir"), ...env });
  const { services } = server.server;
  const now = Math.floor(Date.now() / 1000);
  await loadDemoDefinitions(
    { tags: services.db.tags, topics: services.db.topics, agents: services.db.agents },
    now,
  );
  const { conversations } = await loadDemoConversations(services.conversations, now);
  const demo = conversations
    .map((c) => c.doc as Record<string, unknown>)
    .sort((a, b) => startTime(b) - startTime(a));
  return Object.assign(server, { demo });
}

function startTime(doc: Record<string, unknown>): number {
  return Number((doc.metadata as { start_time_unix_secs?: number } | undefined)?.start_time_unix_secs ?? 0);
}

/** What a page is opened with. */
export interface OpenOptions {
  viewport?: { width: number; height: number };
  colorScheme?: "light" | "dark";
}

/** A fresh browser context (its own session storage) and page. */
export async function newConsolePage(
  browser: Browser,
  options: OpenOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    colorScheme: options.colorScheme ?? "light",
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_WAIT_MS);
  return { context, page };
}

/** Opens `pathAndQuery` of the console, signing in with the server's key first. */
export async function signIn(page: Page, server: TestServer, pathAndQuery = "/"): Promise<void> {
  await page.goto(`${server.url}${pathAndQuery}`);
  await page.getByLabel("API key").fill(server.apiKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** axe-core's browser build, injected into a page to check it. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** One rule axe found broken, with where. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now. */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<unknown> } })
      .axe;
    const result = (await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    })) as {
      violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
}

/** Fails the test, naming each rule and element, when axe finds a violation on the page. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await runAxe(page);
  const report = violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(", ")}`);
  expect(report, `accessibility violations on ${what}`).toEqual([]);
}

/** Where the screenshots docs/ and the README show are kept. */
const SCREENSHOT_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../docs/screenshots",
);

/**
 * Takes a screenshot of the page. It is written to docs/screenshots/<name>.png only when
 * OPENCONVAI_UPDATE_SCREENSHOTS=1 (so an ordinary test run leaves the checkout as it was).
 */
export async function screenshot(page: Page, name: string): Promise<Buffer> {
  const image = await page.screenshot({ fullPage: false });
  expect(image.length).toBeGreaterThan(1000);
  if (process.env.OPENCONVAI_UPDATE_SCREENSHOTS === "1") {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
  }
  return image;
}
