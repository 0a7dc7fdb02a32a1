/**
 * The console is served at `/` with the API, and signing in takes a key: a wrong one is refused
 * with a message saying what to do, a right one opens the console, and the key stays for the tab.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeChromium, launchChromium } from "../browser/support/chromium.js";
import {
  type ConsoleServer,
  expectAccessible,
  newConsolePage,
  PHONE,
  signIn,
  startConsoleServer,
} from "./support/console-harness.js";

describe("console sign-in", () => {
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

  it("serves the console's page and assets without a key, and keeps the API's 404 for unknown paths", async () => {
    const page = await fetch(`${server.url}/conversations`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${server.url}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toContain("immutable");
    // The built index.html, reached by its own name, may not be framed either.
    const index = await fetch(`${server.url}/index.html`);
    expect(index.status).toBe(200);
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    const unknown = await fetch(`${server.url}/v1/nothing-here`, {
      headers: { "xi-api-key": server.apiKey },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toHaveProperty("detail");
  });

  it("refuses a wrong key with a message, then signs in with the right one", async () => {
    const { context, page } = await newConsolePage(browser);
    try {
      await page.goto(server.url);
      await expectAccessible(page, "the sign-in page");
      await page.getByLabel("API key").fill("oc_wrong_key");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("not accepted");
      // A wrong key on the sign-in page is not a session that expired.
      expect(await page.getByText("no longer accepts").count()).toBe(0);
      await page.getByLabel("API key").fill(server.apiKey);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("navigation", { name: "Main" }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("openconvai.apiKey"))).toBe(server.apiKey);
      // A reload keeps the tab signed in.
      await page.reload();
      await page.getByRole("navigation", { name: "Main" }).waitFor();
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("API key").waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("openconvai.apiKey"))).toBeNull();
    } finally {
      await context.close();
    }
  });

  it("lays the frame out on a 390 px wide screen in dark mode", async () => {
    const { context, page } = await newConsolePage(browser, { viewport: PHONE, colorScheme: "dark" });
    try {
      await signIn(page, server);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe("rgb(17, 20, 24)");
      await expectAccessible(page, "the frame in dark mode");
    } finally {
      await context.close();
    }
  });
});
