/**
 * The console's routes on the server: its pages answer without a key (they hold no data), only the
 * named pages do (an unknown path keeps the API's 404), and a server without a built console says
 * how to build it instead of failing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("console routes without a built console", () => {
  let server: TestServer;
  let empty: string;

  beforeAll(async () => {
    empty = mkdtempSync(path.join(tmpdir(), "openconvai-no-console-"));
    server = await startTestServer("sqlite", { OPENCONVAI_CONSOLE_DIR: empty });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(empty, { recursive: true, force: true });
  });

  it("answers each page with a 503 page that says to run the build", async () => {
    for (const page of ["/", "/conversations", "/conversations/conv_1", "/agents/new", "/webhooks"]) {
      const response = await fetch(`${server.url}${page}`);
      expect(response.status, page).toBe(503);
      expect(response.headers.get("content-type")).toMatch(/text\/html/);
      expect(await response.text()).toContain("npm run build");
    }
  });

  it("leaves other paths to the API: an unknown one without a key is refused, with a key not found", async () => {
    expect((await fetch(`${server.url}/assets/index.js`)).status).toBe(401);
    const withKey = await server.fetch("/no-such-page");
    expect(withKey.status).toBe(404);
    expect(await withKey.json()).toHaveProperty("detail");
  });

  it("keeps the API's own answers: a conversation route still needs a key", async () => {
    const response = await fetch(`${server.url}/v1/convai/conversations`);
    expect(response.status).toBe(401);
  });
});
