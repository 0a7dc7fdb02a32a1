import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../src/conversations/document-validator.js";
import type { ConversationRecord } from "../src/domain/conversation.js";
import { syntheticConversation } from "./fixtures/synthetic-conversations.js";
import { BACKENDS, createTestStorage } from "./support/backends.js";
import { runCli } from "./support/run-cli.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TIMESTAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z openconvai sync: /;

/** A running `openconvai` child whose stderr can be waited on, and signalled. */
interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI from the sources, as run-cli does, but without waiting for it to end. */
function startCli(args: string[], env: Record<string, string>): RunningCli {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.OPENCONVAI_DATA;
  delete childEnv.ELEVENLABS_API_KEY;
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], {
    cwd: REPO,
    env: childEnv,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.resume();
  child.stdin.end();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stderr: () => stderr,
    exited,
    waitForStderr: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          if (pattern.test(stderr)) return resolve();
          if (child.exitCode !== null) return reject(new Error(`exited before ${pattern}: ${stderr}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`no ${pattern} in: ${stderr}`));
          setTimeout(check, 50);
        };
        check();
      }),
  };
}

/** A port nothing listens on: taken from the system, then given back. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A proxy in front of a source: answers the first `failFirst` requests with 503, and holds every
 * request `delayMs` before passing it on. Counts the requests it received.
 */
function startProxy(target: string, options: { failFirst?: number; delayMs?: number }) {
  const upstream = new URL(target);
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    if (n <= (options.failFirst ?? 0)) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end('{"detail":{"status":"unavailable","message":"later"}}');
      return;
    }
    setTimeout(() => {
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => res.socket?.destroy());
      req.pipe(forward);
    }, options.delayMs ?? 0);
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

describe("openconvai sync on the command line", () => {
  let a: TestServer;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), "openconvai-sync-cli-"));
    a = await startTestServer("sqlite");
    const records: ConversationRecord[] = [];
    for (let i = 0; i < 12; i++) {
      const checked = checkIncomingDocument(syntheticConversation(i, 4), undefined);
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      records.push(checked.record);
    }
    await a.server.services.conversations.putRecords(records);
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("without --from: one line saying what to pass, exit 2", async () => {
    const run = await runCli(["sync", "--api-key", "k"], {
      env: { OPENCONVAI_DATA: path.join(work, "no-from") },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "openconvai sync: --from is required: pass the source API's base URL, e.g. --from https://api.elevenlabs.io (or another openconvai's URL)\n",
    );
    const notUrl = await runCli(["sync", "--from", "api.elevenlabs.io", "--api-key", "k"], {
      env: { OPENCONVAI_DATA: path.join(work, "no-from") },
    });
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toBe(
      "openconvai sync: --from must be an http(s) base URL, e.g. --from https://api.elevenlabs.io\n",
    );
  }, 30_000);

  it("an unreachable source: one line naming the URL and what to check, exit 1, at once", async () => {
    const port = await closedPort();
    const started = performance.now();
    const run = await runCli(["sync", "--from", `http://127.0.0.1:${port}`, "--api-key", "k"], {
      env: { OPENCONVAI_DATA: path.join(work, "unreachable") },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `openconvai sync: cannot reach http://127.0.0.1:${port} (connection refused): check --from, and that the source is running and reachable from this machine.\n`,
    );
    // The process start (tsx) takes most of this; eight attempts with backoff took far longer.
    expect(performance.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it("shows retries with the real wait, never 0.0 s", async () => {
    const proxy = await startProxy(a.url, { failFirst: 3 });
    try {
      const run = await runCli(["sync", "--from", proxy.url, "--api-key", a.apiKey, "--dry-run"], {
        env: { OPENCONVAI_DATA: path.join(work, "retries") },
      });
      expect(run.code, run.stderr).toBe(0);
      // The first retries are quiet; from the third on each says how long it waits.
      const retries = run.stderr.split("\n").filter((l) => l.startsWith("retrying"));
      expect(retries).toHaveLength(1);
      const wait =
        /^retrying GET \/v1\/convai\/conversations in (\d+) ms: 503 from the source$|^retrying GET \/v1\/convai\/conversations in (\d+\.\d) s: 503 from the source$/.exec(
          retries[0] ?? "",
        );
      expect(wait, retries[0]).not.toBeNull();
      // The third attempt's backoff is 2 s: the wait is at least half of it.
      const ms = wait?.[1] ? Number(wait[1]) : Number(wait?.[2]) * 1000;
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(run.stderr).toMatch(/openconvai sync: 12 listed, 12 to fetch/);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it("Ctrl-C during a run: what was done and how to resume, exit 130", async () => {
    const proxy = await startProxy(a.url, { delayMs: 400 });
    try {
      const cli = startCli(["sync", "--from", proxy.url, "--api-key", a.apiKey, "--concurrency", "1"], {
        OPENCONVAI_DATA: path.join(work, "interrupted"),
      });
      // Stopped once it has listed and is fetching.
      while (proxy.requests() < 3) await new Promise((r) => setTimeout(r, 50));
      cli.child.kill("SIGINT");
      const { code } = await cli.exited;
      expect(code, cli.stderr()).toBe(130);
      expect(cli.stderr()).toMatch(
        /^openconvai sync: stopped during a run: 12 listed, \d+ fetched, 0 already here, 0 failed; what was stored is kept, the mark did not move\. Run the same command again to resume\.\n$/,
      );
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it.each(BACKENDS)(
    "--watch (%s): every line starts with its time; Ctrl-C exits 130 with how to resume",
    async (backend) => {
      const storage = createTestStorage(backend);
      try {
        const env: Record<string, string> = { OPENCONVAI_DATA: storage.dataDir };
        if (storage.databaseUrl) env.DATABASE_URL = storage.databaseUrl;
        const cli = startCli(["sync", "--from", a.url, "--api-key", a.apiKey, "--watch", "1"], env);
        // Two runs: the first fetches everything, the second (incremental) finds the newest only.
        await cli.waitForStderr(/openconvai sync: 1 listed, 0 fetched, 1 already here/);
        cli.child.kill("SIGINT");
        const { code } = await cli.exited;
        expect(code, cli.stderr()).toBe(130);
        const lines = cli.stderr().trimEnd().split("\n");
        expect(lines.length).toBeGreaterThanOrEqual(3);
        for (const line of lines) expect(line).toMatch(TIMESTAMPED);
        expect(lines[0]).toMatch(/openconvai sync: 12 listed, 12 fetched, 0 already here, 0 failed/);
        expect(lines.at(-1)).toMatch(
          /openconvai sync: stopped (between runs; mark \S+|during a run: .*the mark did not move)\. Run the same command again to resume\.$/,
        );
      } finally {
        await storage.cleanup();
      }
    },
    60_000,
  );
});
