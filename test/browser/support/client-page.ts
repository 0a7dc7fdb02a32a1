/**
 * The page the browser tests run the official client in: a tiny static server on 127.0.0.1 (a
 * secure context, so getUserMedia and AudioWorklet are there) serving one HTML page that loads
 * `@elevenlabs/client`'s browser bundle (`dist/lib.iife.js`, global `ElevenLabsClient`) and
 * page-harness.js (the callbacks that record what the client reports into `window.__events`).
 * Tests drive the page with `page.evaluate`, and wait on it with `page.waitForFunction`.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Callbacks, Conversation, TextConversation, VoiceConversation } from "@elevenlabs/client";
import type { Browser, Page } from "playwright-core";

/** How long a wait on the page may last before the test fails with what the page recorded. */
export const PAGE_WAIT_MS = 10_000;

/** Something the client reported on the page, in order (recorded by page-harness.js). */
export type PageEvent =
  | { kind: "connect"; conversationId: string /** The page's clock (ms since the epoch). */; at: number }
  | { kind: "message"; role: string; message: string }
  | { kind: "status"; status: string }
  | { kind: "mode"; mode: string }
  | { kind: "interruption"; eventId: number }
  | { kind: "correction"; original: string; corrected: string }
  | { kind: "error"; message: string }
  | { kind: "disconnect"; at: number; reason: string; closeCode?: number; closeReason?: string };

/** What measureMicLevel on the page found (see page-harness.js). */
export interface MicLevels {
  trackState: string;
  sampleRate: number;
  /** The loudest and quietest RMS seen (0..1 of full scale). */
  maxRms: number;
  minRms: number;
  /** The strongest frequency while the level was at its loudest. */
  peakHz: number;
}

/** The page's globals, for typing the functions passed to `page.evaluate` (they run in the page). */
export interface ClientPageGlobals {
  ElevenLabsClient: { Conversation: typeof Conversation };
  __events: PageEvent[];
  /** How many `audio` events the client has received (counted, not recorded in `__events`). */
  __audioChunks: number;
  /** The client callbacks that record into `__events`. */
  __recordingCallbacks(): Partial<Callbacks>;
  /** The session a test started, for later calls. */
  __conversation?: TextConversation | VoiceConversation;
  /** Opens the microphone and measures its level for `durationMs`. */
  measureMicLevel(durationMs: number): Promise<MicLevels>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The browser bundle, found beside the package's main entry (its exports map hides dist/). */
function readClientBundle(): Buffer {
  const main = createRequire(import.meta.url).resolve("@elevenlabs/client");
  return readFileSync(path.join(path.dirname(main), "lib.iife.js"));
}

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>openconvai browser test</title></head>
<body><script src="/lib.iife.js"></script><script src="/page-harness.js"></script></body></html>`;

/** A listening page server. */
export interface ClientPageServer {
  /** The page's URL (`http://127.0.0.1:<port>/`). */
  url: string;
  close(): Promise<void>;
}

/** Starts the page server on an ephemeral port of 127.0.0.1. */
export async function startClientPageServer(): Promise<ClientPageServer> {
  const files: Record<string, { type: string; body: Buffer | string }> = {
    "/": { type: "text/html; charset=utf-8", body: PAGE_HTML },
    "/lib.iife.js": { type: "text/javascript; charset=utf-8", body: readClientBundle() },
    "/page-harness.js": {
      type: "text/javascript; charset=utf-8",
      body: readFileSync(path.join(here, "page-harness.js")),
    },
  };
  const server: Server = createServer((request, response) => {
    const file =
      request.method === "GET" ? files[new URL(request.url ?? "/", "http://x").pathname] : undefined;
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens the page in a fresh browser context and waits until the client bundle has loaded. */
export async function openClientPage(browser: Browser, pageServer: ClientPageServer): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_WAIT_MS);
  await page.goto(pageServer.url);
  await page.waitForFunction(() => {
    const w = globalThis as unknown as Partial<ClientPageGlobals>;
    return typeof w.ElevenLabsClient?.Conversation?.startSession === "function" && Array.isArray(w.__events);
  });
  return page;
}

/** What the client has reported on the page so far. */
export function readPageEvents(page: Page): Promise<PageEvent[]> {
  return page.evaluate(() => (globalThis as unknown as ClientPageGlobals).__events);
}

/**
 * Waits until the page has recorded an event with every field of `like`, and returns it; after
 * `timeoutMs` it fails with the events recorded so far.
 */
export async function waitForPageEvent<E extends PageEvent>(
  page: Page,
  like: Partial<E> & { kind: E["kind"] },
  timeoutMs = PAGE_WAIT_MS,
): Promise<E> {
  const find = (wanted: Record<string, unknown>) =>
    (globalThis as unknown as ClientPageGlobals).__events.find((event) =>
      Object.entries(wanted).every(([key, value]) => (event as Record<string, unknown>)[key] === value),
    );
  try {
    const wanted: Record<string, unknown> = like;
    const handle = await page.waitForFunction(find, wanted, { timeout: timeoutMs });
    return (await handle.jsonValue()) as E;
  } catch (error) {
    const events = await readPageEvents(page).catch(() => "(the page is gone)");
    throw new Error(
      `The page recorded no ${JSON.stringify(like)} within ${timeoutMs} ms; it recorded ${JSON.stringify(events)}. ` +
        `(${error instanceof Error ? error.message.split("\n")[0] : String(error)})`,
    );
  }
}
