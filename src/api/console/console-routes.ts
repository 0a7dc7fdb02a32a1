/**
 * The console: the browser app built by `npm run build` into `dist/console` (console/ is its
 * source), served at `/` from the same process as the API. Its files and its page routes are
 * public (they hold no data; the app asks for an API key and calls the API with it), and each
 * route is named, so an unknown path still gets the API's 404 envelope, not a page.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { PublicRoutes } from "../public-routes.js";

/** The console's own page paths (client-side routes): each answers the app's index.html. */
export const CONSOLE_PAGES: readonly string[] = [
  "/",
  "/conversations",
  "/conversations/:conversation_id",
  "/messages",
  "/agents",
  "/agents/new",
  "/agents/:agent_id",
  "/agents/:agent_id/talk",
  "/webhooks",
];

/** What the console routes need. */
export interface ConsoleRouteOptions {
  /** The built console (holding index.html and assets/). */
  consoleDir: string;
  /** Where the console's routes are marked public. */
  publicRoutes: PublicRoutes;
}

/**
 * Sent with each page: the console is never framed by another site (a key-holding page must not be
 * overlaid), sends no referrer, and its files are taken as the type they are served as.
 */
const PAGE_HEADERS = {
  "x-frame-options": "DENY",
  "content-security-policy": "frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
} as const;

/** The page answered when the console was not built (an install without `npm run build`). */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openconvai</title></head>
<body><main><h1>The console is not built</h1>
<p>The API is serving. To get the console, run <code>npm run build</code> in the server's folder and start the server again
(or set <code>OPENCONVAI_CONSOLE_DIR</code> to a built console).</p></main></body></html>
`;

/** Registers the console's files and pages. */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleRouteOptions): Promise<void> {
  const { consoleDir, publicRoutes } = options;
  // Every route registered in this scope (the pages and each built file) is public.
  app.addHook("onRoute", (route) => {
    publicRoutes.add(route.method, route.url);
  });
  const index = path.join(consoleDir, "index.html");
  if (!existsSync(index)) {
    for (const page of CONSOLE_PAGES) {
      app.get(page, { schema: { hide: true } }, async (_request, reply) => {
        reply.code(503).type("text/html; charset=utf-8").header("cache-control", "no-store");
        return NOT_BUILT_PAGE;
      });
    }
    return;
  }
  await app.register(fastifyStatic, {
    root: consoleDir,
    prefix: "/",
    // One route per built file (found at start), rather than a catch-all that would answer the
    // API's unknown paths.
    wildcard: false,
    index: false,
    serve: true,
    // The headers are set below, per file.
    cacheControl: false,
    setHeaders: (res, filePath) => {
      // Built assets carry a content hash in their name, so they never change; the rest may.
      const immutable = filePath.includes(`${path.sep}assets${path.sep}`);
      res.setHeader("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
      // Every file, /index.html included, carries the page headers (no framing, above all).
      for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
    },
  });
  const sendIndex = (reply: FastifyReply) =>
    reply.headers(PAGE_HEADERS).header("cache-control", "no-cache").sendFile("index.html", consoleDir);
  for (const page of CONSOLE_PAGES) {
    app.get(page, { schema: { hide: true } }, async (_request, reply) => sendIndex(reply));
  }
}
