/**
 * The console scenario: how long the first page (the overview, on the demo data) takes to become
 * interactive in headless Chromium, signed in, cache cold (a fresh browser context each run). Next
 * to it, in the same run and browser, the baseline: loading a blank page from the same server.
 * "Interactive" is when the overview has drawn its numbers (`[data-ready="true"]`) and the main
 * thread is free again (a task posted then runs).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { buildConsole } from "../scripts/build.mjs";
import { startServerProcess } from "./server-process.js";

/** What the console scenario measured, in milliseconds. */
export interface ConsoleResult {
  runs: number;
  overviewP50Ms: number;
  overviewP90Ms: number;
  overviewMaxMs: number;
  /** A blank page from the same server, the same way. */
  baselineP50Ms: number;
}

const CHROMIUM = process.env.OPENCONVAI_TEST_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Runs the scenario on SQLite with the demo data. */
export async function runConsoleScenario(options: { root: string; runs: number }): Promise<ConsoleResult> {
  if (!buildConsole(options.root)) throw new Error("the console did not build (errors above)");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "openconvai-bench-console-"));
  const bin = path.join(options.root, "dist", "cli", "bin.js");
  execFileSync(process.execPath, [bin, "seed", "--demo", "--data", dataDir], { stdio: "ignore" });
  const server = await startServerProcess({ root: options.root, dataDir, databaseUrl: undefined });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const measure = async (url: string, ready: string): Promise<number> => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      await context.addInitScript((key: string) => {
        // Runs in the page (a browser global, not Node's).
        const page = globalThis as unknown as {
          sessionStorage: { setItem(name: string, value: string): void };
        };
        page.sessionStorage.setItem("openconvai.apiKey", key);
      }, server.apiKey);
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "commit" });
      await page.waitForSelector(ready, { timeout: 30_000 });
      const ms = await page.evaluate(
        () => new Promise<number>((resolve) => setTimeout(() => resolve(performance.now()), 0)),
      );
      await context.close();
      return ms;
    };
    // One warm-up of each, so the server's first-request costs are not counted.
    await measure(`${server.url}/`, '[data-ready="true"]');
    const overview: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      overview.push(await measure(`${server.url}/`, '[data-ready="true"]'));
      baseline.push(await measure(`${server.url}/healthz`, "body"));
    }
    overview.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    return {
      runs: options.runs,
      overviewP50Ms: percentile(overview, 50),
      overviewP90Ms: percentile(overview, 90),
      overviewMaxMs: overview[overview.length - 1] ?? Number.NaN,
      baselineP50Ms: percentile(baseline, 50),
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The scenario's section of bench/RESULTS.md. */
export function renderConsoleMarkdown(r: ConsoleResult, meta: { date: string; commit: string }): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  return [
    `## Console, first page interactive · ${meta.date} · ${meta.commit}`,
    "",
    `Overview on the demo data, signed in, a fresh browser context each run (${r.runs} runs), headless Chromium.`,
    "",
    "| measure | p50 | p90 | max |",
    "| --- | --- | --- | --- |",
    `| overview interactive | ${ms(r.overviewP50Ms)} | ${ms(r.overviewP90Ms)} | ${ms(r.overviewMaxMs)} |`,
    `| baseline: a blank page from the same server | ${ms(r.baselineP50Ms)} | | |`,
    "",
    `Target: interactive in under 1 s: ${r.overviewP90Ms < 1000 ? "met" : "NOT met"} (p90 ${ms(r.overviewP90Ms)}; ${(r.overviewP50Ms / r.baselineP50Ms).toFixed(1)}× the blank page at p50).`,
    "",
    "",
  ].join("\n");
}
