import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { frameSender } from "./frame-batcher.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A connected pair: the server's side of the socket and a client collecting what it receives. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; received: string[] }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  cleanups.push(() => wss.close());
  await new Promise((resolve) => wss.once("listening", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  cleanups.push(() => client.terminate());
  const received: string[] = [];
  client.on("message", (data) => received.push(data.toString()));
  const server = await new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  await new Promise((resolve) => client.once("open", resolve));
  return { server, client, received };
}

/** Counts the writes that reach the server side's TCP socket. */
function countWrites(socket: WebSocket): () => number {
  const connection = (socket as unknown as { _socket: Duplex & Record<string, unknown> })._socket;
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    const original = connection[method] as (...args: unknown[]) => unknown;
    connection[method] = (...args: unknown[]) => {
      writes += 1;
      return original.apply(connection, args);
    };
  }
  return () => writes;
}

describe("frameSender", () => {
  it("sends the frames of one tick in one write, in order", async () => {
    const { server, received } = await pair();
    const writes = countWrites(server);
    const send = frameSender(server);
    for (let i = 0; i < 5; i += 1) send(`frame ${i}`);
    await Promise.resolve().then(() => send("frame 5 (a promise callback of the same tick)"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes()).toBe(1);
    expect(received).toEqual([
      "frame 0",
      "frame 1",
      "frame 2",
      "frame 3",
      "frame 4",
      "frame 5 (a promise callback of the same tick)",
    ]);
  });

  it("sends frames of later ticks in writes of their own", async () => {
    const { server, received } = await pair();
    const writes = countWrites(server);
    const send = frameSender(server);
    send("first");
    await new Promise((resolve) => setTimeout(resolve, 10));
    send("second");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes()).toBe(2);
    expect(received).toEqual(["first", "second"]);
  });

  it("stops sending and says so once a client that does not read has too much waiting", async () => {
    const { server, client } = await pair();
    // The client stops reading: what the server sends piles up.
    (client as unknown as { _socket: Duplex })._socket.pause();
    let overflows = 0;
    const send = frameSender(server, { maxQueuedBytes: 4 * 1024 * 1024, onOverflow: () => (overflows += 1) });
    const frame = "x".repeat(1024 * 1024);
    let sent = 0;
    for (let i = 0; i < 64 && overflows === 0; i += 1) {
      send(frame);
      sent += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    send(frame);
    expect(overflows).toBe(1);
    expect(server.bufferedAmount).toBeLessThan(64 * 1024 * 1024);
    expect(sent).toBeLessThan(64);
  });
});
