/**
 * Shutdown is not held by a connection that never sent a byte: clients open such connections
 * ahead of need (a pool replacing one closed after a 401), and Node's idle-connection close does
 * not count them as idle, so the server waited for the headers timeout (60 s) before stopping.
 */
import net from "node:net";
import { describe, expect, it } from "vitest";
import { startTestServer } from "../support/test-server.js";

describe("stopping the server", () => {
  it("closes a connection that never sent a request, instead of waiting for it", async () => {
    const server = await startTestServer("sqlite");
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const closedByServer = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // The test's timeout (well under the 60 s headers timeout) is the bound.
    await server.stop();
    await closedByServer;
    expect(socket.destroyed).toBe(true);
  }, 20_000);
});
