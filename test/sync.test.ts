import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../src/conversations/document-validator.js";
import type { ConversationRecord } from "../src/domain/conversation.js";
import { exportNdjson } from "../src/ingest/ndjson-exporter.js";
import type { Services } from "../src/main.js";
import { HttpConversationSource, parseRetryAfter } from "../src/sync/http-conversation-source.js";
import { syncConversations } from "../src/sync/sync-conversations.js";
import { syntheticConversation } from "./fixtures/synthetic-conversations.js";
import { BACKENDS } from "./support/backends.js";
import { type CliResult, runCli as runCliProcess } from "./support/run-cli.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const CONVERSATIONS = 520;

/** Runs the CLI with a data dir (and nothing else) from the environment. */
function runCli(args: string[], dataDir: string): Promise<CliResult> {
  return runCliProcess(args, { env: { OPENCONVAI_DATA: dataDir } });
}

/** Exports a server's conversations and recordings: the NDJSON text and the files by name. */
async function exportServer(
  services: Services,
  audioDir: string,
): Promise<{ ndjson: string; audio: Map<string, Buffer> }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await exportNdjson(services.db.conversations, services.blobs, out, { audioDir });
  out.end();
  const audio = new Map(
    readdirSync(audioDir)
      .sort()
      .map((n) => [n, readFileSync(path.join(audioDir, n))]),
  );
  return { ndjson: Buffer.concat(chunks).toString("utf8"), audio };
}

/** Counts what the proxy did to requests. */
interface FaultCounts {
  forwarded: number;
  tooMany: number;
  serverErrors: number;
  dropped: number;
  cutShort: number;
}

/**
 * A proxy in front of a server that fails some requests on purpose: 429 with Retry-After, 500,
 * a connection closed before any answer, and an answer cut off part way through its body.
 */
function startFaultyProxy(
  target: string,
): Promise<{ url: string; counts: FaultCounts; close(): Promise<void> }> {
  const upstream = new URL(target);
  const counts: FaultCounts = { forwarded: 0, tooMany: 0, serverErrors: 0, dropped: 0, cutShort: 0 };
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    if (n % 9 === 2) {
      counts.tooMany++;
      res.writeHead(429, { "retry-after": n % 180 === 2 ? "1" : "0", "content-type": "application/json" });
      res.end('{"detail":{"status":"too_many_concurrent_requests","message":"slow down"}}');
      return;
    }
    if (n % 11 === 5) {
      counts.serverErrors++;
      res.writeHead(500, { "content-type": "application/json" });
      res.end('{"detail":{"status":"internal_error","message":"boom"}}');
      return;
    }
    if (n % 13 === 7) {
      counts.dropped++;
      req.socket.destroy();
      return;
    }
    const cut = n % 17 === 3;
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        if (!cut) {
          counts.forwarded++;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        counts.cutShort++;
        // Announce the whole body, send a little of it, then hang up.
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.once("data", (chunk: Buffer) => {
          res.write(chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2))));
          answer.destroy();
          res.socket?.destroy();
        });
      },
    );
    forward.on("error", () => res.socket?.destroy());
    req.pipe(forward);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        counts,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("0")).toBe(0);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
  });
});

describe("openconvai sync", () => {
  let a: TestServer;
  let proxy: Awaited<ReturnType<typeof startFaultyProxy>>;
  let work: string;
  let expected: { ndjson: string; audio: Map<string, Buffer> };

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "openconvai-sync-"));
    a = await startTestServer("sqlite");
    const services = a.server.services;
    const records: ConversationRecord[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const doc = syntheticConversation(i, 4);
      // A few still running upstream: they are stored, and the mark stays below them.
      if (i === 7) doc.status = "in-progress";
      const checked = checkIncomingDocument(doc, undefined);
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      records.push(checked.record);
    }
    await services.conversations.putRecords(records);
    // Every conversation but each tenth has a recording of its own.
    const ids = records.map((r) => r.index.conversationId);
    for (let i = 0; i < ids.length; i += 16) {
      await Promise.all(
        ids
          .slice(i, i + 16)
          .map((id, j) =>
            (i + j) % 10 === 9
              ? undefined
              : services.conversations.putAudio(
                  id,
                  Buffer.from(`ID3-${id}-`.repeat(40 + ((i + j) % 17))),
                  "audio/mpeg",
                ),
          ),
      );
    }
    expected = await exportServer(services, path.join(work, "expected"));
    proxy = await startFaultyProxy(a.url);
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await a?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it.each(BACKENDS)(
    "mirrors A into B (%s) through faults, stopped part way and started again",
    async (backend) => {
      const b = await startTestServer(backend);
      try {
        const services = b.server.services;
        const source = new HttpConversationSource({
          baseUrl: proxy.url,
          apiKey: a.apiKey,
          backoffBaseMs: 5,
          timeoutMs: 5_000,
          maxAttempts: 12,
        });
        const options = {
          source,
          db: services.db,
          conversations: services.conversations,
          audio: true,
          concurrency: 16,
        };

        // A dry run lists everything and writes nothing.
        const dry = await syncConversations({ ...options, dryRun: true });
        expect(dry).toMatchObject({
          listed: CONVERSATIONS,
          fetched: CONVERSATIONS,
          failed: 0,
          markAfter: null,
        });
        expect(await services.db.conversations.countConversations()).toBe(0);

        // Stopped part way: the mark does not move.
        const controller = new AbortController();
        const stopped = syncConversations({
          ...options,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.fetched >= 230) controller.abort(new Error("killed"));
          },
        });
        await expect(stopped).rejects.toThrow("killed");
        const partial = await services.db.conversations.countConversations();
        expect(partial).toBeGreaterThanOrEqual(230);
        expect(partial).toBeLessThan(CONVERSATIONS);
        expect(await services.db.syncState.getSyncState(source.key)).toBeUndefined();

        // Started again: it finishes, skipping what is already here.
        const resumed = await syncConversations(options);
        expect(resumed.failed).toBe(0);
        expect(resumed.listed).toBe(CONVERSATIONS);
        // What the stopped run stored is not fetched again (those without a recording are asked for one).
        expect(resumed.skipped).toBeGreaterThan(150);
        expect(resumed.fetched).toBeLessThan(CONVERSATIONS - 150);
        expect(await services.db.conversations.countConversations()).toBe(CONVERSATIONS);
        // The mark stops at the conversation still in progress (synthetic starts are 97 s apart).
        expect(resumed.markAfter).toBe(1_735_689_600 + 7 * 97);

        // An incremental run fetches only from the mark on: the one in progress, nothing else.
        const again = await syncConversations(options);
        expect(again.failed).toBe(0);
        expect(again.listed).toBe(CONVERSATIONS - 7);
        expect(again.fetched).toBe(1);

        // --full walks everything again, refetching every document; the mark stays.
        const full = await syncConversations({ ...options, full: true });
        expect(full).toMatchObject({ listed: CONVERSATIONS, fetched: CONVERSATIONS, failed: 0 });
        expect(full.markAfter).toBe(resumed.markAfter);

        const mirrored = await exportServer(services, path.join(work, `mirror-${backend}`));
        expect(mirrored.ndjson).toBe(expected.ndjson);
        expect([...mirrored.audio.keys()]).toEqual([...expected.audio.keys()]);
        for (const [name, bytes] of expected.audio)
          expect(mirrored.audio.get(name)?.equals(bytes), name).toBe(true);
        expect(proxy.counts.tooMany).toBeGreaterThan(0);
        expect(proxy.counts.serverErrors).toBeGreaterThan(0);
        expect(proxy.counts.dropped).toBeGreaterThan(0);
        expect(proxy.counts.cutShort).toBeGreaterThan(0);
      } finally {
        await b.stop();
      }
    },
    60_000,
  );

  it("stops with a clear error on a wrong key, and never shows the key", async () => {
    const secret = "xi_wrong_key_123456";
    const source = new HttpConversationSource({ baseUrl: a.url, apiKey: secret, backoffBaseMs: 1 });
    const b = await startTestServer("sqlite");
    try {
      const run = syncConversations({
        source,
        db: b.server.services.db,
        conversations: b.server.services.conversations,
        audio: false,
      });
      await expect(run).rejects.toThrow(/answered 401/);
      await run.catch((error: Error) => expect(error.message).not.toContain(secret));
    } finally {
      await b.stop();
    }
  });

  it("runs as a command: dry run, then a sync through the faults, without printing the key", async () => {
    const data = path.join(work, "cli-data");
    const args = ["sync", "--from", proxy.url, "--api-key", a.apiKey, "--audio", "--concurrency", "16"];
    const dry = await runCli([...args, "--dry-run", "--since", String(1_735_689_600 + 500 * 97)], data);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/openconvai sync: 20 listed, 20 to fetch, 0 already here/);
    const run = await runCli([...args, "--since", String(1_735_689_600 + 500 * 97)], data);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /openconvai sync: 20 listed, 20 fetched, 0 already here, 18 recordings \(0 not available\)/,
    );
    for (const out of [dry, run]) expect(out.stdout + out.stderr).not.toContain(a.apiKey);
    const noKey = await runCli(["sync", "--from", proxy.url], data);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--api-key/);
  });
});
