import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SourceError } from "../src/sync/conversation-source.js";
import { describeDelay, HttpConversationSource } from "../src/sync/http-conversation-source.js";

/** A port nothing listens on: taken from the system, then given back. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A source that answers each request with the next status of `script` (200 with an empty list when it runs out). */
function startScriptedSource(script: { status: number; headers?: Record<string, string> }[]) {
  let n = 0;
  const server = http.createServer((_req, res) => {
    const step = script[n++];
    if (step) {
      res.writeHead(step.status, { "content-type": "application/json", ...step.headers });
      res.end('{"detail":{"status":"busy","message":"try later"}}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"conversations":[],"next_cursor":null,"has_more":false}');
  });
  return new Promise<{ url: string; requests: () => number; close(): Promise<void> }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests: () => n,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** fetch, counting the requests it is asked to make. */
function countingFetch() {
  let attempts = 0;
  return {
    fetch: ((...args: Parameters<typeof fetch>) => {
      attempts++;
      return fetch(...args);
    }) as typeof fetch,
    attempts: () => attempts,
  };
}

describe("sync source: a source that cannot be reached fails fast", () => {
  it("connection refused: one clear error naming the URL, no retries", async () => {
    const port = await closedPort();
    const onRetry = vi.fn();
    const counted = countingFetch();
    const source = new HttpConversationSource({
      baseUrl: `http://127.0.0.1:${port}/`,
      apiKey: "k",
      onRetry,
      fetch: counted.fetch,
    });
    const error = await source.listConversations({ pageSize: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(
      `cannot reach http://127.0.0.1:${port} (connection refused): check --from, and that the source is running and reachable from this machine.`,
    );
    expect(onRetry).not.toHaveBeenCalled();
    // Fast means one attempt: no retry, so no backoff waited.
    expect(counted.attempts()).toBe(1);
  });

  it("a host name that does not resolve: the same, naming the host", async () => {
    const onRetry = vi.fn();
    const counted = countingFetch();
    const source = new HttpConversationSource({
      baseUrl: "http://openconvai-sync-test.invalid",
      apiKey: "k",
      onRetry,
      fetch: counted.fetch,
    });
    const error = await source.listConversations({ pageSize: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(
      /^cannot reach http:\/\/openconvai-sync-test\.invalid \(host name (not found|could not be resolved)\): check --from/,
    );
    expect(onRetry).not.toHaveBeenCalled();
    expect(counted.attempts()).toBe(1);
  });

  it("a source that answered before and now refuses (a restart) is retried", async () => {
    const source0 = await startScriptedSource([]);
    const onRetry = vi.fn();
    const source = new HttpConversationSource({
      baseUrl: source0.url,
      apiKey: "k",
      backoffBaseMs: 5,
      maxAttempts: 3,
      onRetry,
    });
    await source.listConversations({ pageSize: 10 });
    await source0.close();
    await expect(source.listConversations({ pageSize: 10 })).rejects.toThrow(
      /failed after 3 attempts: connection failed \(ECONNREFUSED\)/,
    );
    expect(onRetry).toHaveBeenCalledTimes(2);
  });
});

describe("sync source: retries wait a real, growing backoff", () => {
  let source: Awaited<ReturnType<typeof startScriptedSource>>;
  beforeAll(async () => {
    source = await startScriptedSource([
      { status: 503 },
      { status: 503 },
      { status: 429, headers: { "retry-after": "0" } },
      { status: 500 },
    ]);
  });
  afterAll(async () => source?.close());
  afterEach(() => vi.restoreAllMocks());

  it("waits at least half the backoff, even with the jitter at its lowest and Retry-After: 0", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const delays: number[] = [];
    const http = new HttpConversationSource({
      baseUrl: source.url,
      apiKey: "k",
      backoffBaseMs: 40,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    const page = await http.listConversations({ pageSize: 10 });
    expect(page.items).toEqual([]);
    expect(source.requests()).toBe(5);
    // Backoffs of 40, 80, 160 and 320 ms: each wait is at least half of its backoff.
    expect(delays).toEqual([20, 40, 80, 160]);
  });

  it("shows a wait as a person reads it, never as 0.0 s", () => {
    expect(describeDelay(0.3)).toBe("1 ms");
    expect(describeDelay(250)).toBe("250 ms");
    expect(describeDelay(1_450)).toBe("1.4 s");
    expect(describeDelay(30_000)).toBe("30.0 s");
  });
});
