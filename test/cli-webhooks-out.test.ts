import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { buildProgram, exitCodeFor } from "../src/cli/program.js";
import type {
  AttemptOutcome,
  NewOutgoingDelivery,
  WorkspaceWebhook,
} from "../src/store/outgoing-webhook-store.js";
import type { Database } from "../src/store/store.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { testDelivery, testWebhook } from "./support/outgoing-webhooks.js";
import { type CliResult, runCli } from "./support/run-cli.js";

const HOUR = 3_600_000;
const NODE = "node-cli-test";
const RULE = { failures: 10, quietMs: 7 * 24 * HOUR };

/** A webhook row as the store keeps it. */
function webhook(webhookId: string, nowMs: number): WorkspaceWebhook {
  return testWebhook(webhookId, { createdAtUnix: Math.floor(nowMs / 1000) - 86_400 });
}

/** A queued transcription delivery, about a conversation of its own. */
function delivery(deliveryId: string, webhookId: string, createdAtMs: number): NewOutgoingDelivery {
  return testDelivery(deliveryId, createdAtMs, { webhookId, maxAttempts: 4 });
}

/**
 * Seeds the log as a sender would leave it: d0 failed 30 h ago (410), d1 delivered 3 h ago, d2
 * failed 2 h ago (404), d3 failed once an hour ago and waits, d4 queued now and not tried. Also
 * one dead letter of the incoming side.
 */
async function seed(db: Database, nowMs: number): Promise<void> {
  const store = db.outgoingWebhooks;
  await store.insertWebhook(webhook("wh_a", nowMs));
  await store.insertWebhook(webhook("wh_b", nowMs));
  await store.enqueue([
    delivery("d0", "wh_b", nowMs - 30 * HOUR),
    delivery("d1", "wh_a", nowMs - 3 * HOUR),
    delivery("d2", "wh_b", nowMs - 2 * HOUR),
    delivery("d3", "wh_a", nowMs - HOUR),
    delivery("d4", "wh_a", nowMs),
  ]);
  const outcomes: Record<string, [AttemptOutcome, number]> = {
    d0: [{ status: "failed" }, 410],
    d1: [{ status: "delivered" }, 200],
    d2: [{ status: "failed" }, 404],
    d3: [{ status: "pending", nextAttemptAtMs: nowMs + 30 * 60_000 }, 503],
  };
  for (const d of await store.claimDue(NODE, nowMs - 60_000, 100, 60_000, 100)) {
    const [outcome, statusCode] = outcomes[d.deliveryId] ?? [];
    if (!outcome || statusCode === undefined) continue;
    await store.recordAttempt(
      NODE,
      {
        deliveryId: d.deliveryId,
        attempt: 1,
        startedAtMs: nowMs - 60_000,
        url: `https://receiver.example/${d.webhookId}`,
        statusCode,
        error: statusCode === 200 ? null : `HTTP ${statusCode}`,
        latencyMs: 12,
        responseHead: null,
      },
      outcome,
      RULE,
    );
  }
  await store.releaseNode(NODE);
  await db.webhooks.addDeadLetter({
    bodySha256: "ab".repeat(32),
    type: "post_call_mystery",
    reason: "unknown event type",
    body: '{"type":"post_call_mystery"}',
    receivedAtUnixSecs: Math.floor(nowMs / 1000),
  });
}

/**
 * Runs `openconvai <args>` in the test process, as bin.ts would: a fresh program, its output
 * captured, and the exit code bin.ts would exit with (a usage error's 2, or the command's own).
 */
async function runInProcess(args: string[]): Promise<CliResult> {
  const output = { stdout: "", stderr: "" };
  const capture = (stream: "stdout" | "stderr") =>
    vi.spyOn(process[stream], "write").mockImplementation((chunk: string | Uint8Array) => {
      output[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
      return true;
    });
  const stdout = capture("stdout");
  const stderr = capture("stderr");
  let code: number;
  try {
    await buildProgram().parseAsync(args, { from: "user" });
    code = typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    const usage = exitCodeFor(error);
    if (usage === undefined) throw error;
    code = usage;
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
  return { code, ...output };
}

describe.each(BACKENDS)("openconvai webhooks: both sides, on %s", (backend) => {
  let storage: TestStorage;
  let env: Record<string, string>;
  let storageArgs: string[];
  const savedEnv: Record<string, string | undefined> = {};

  beforeAll(() => {
    // Only the flags choose the storage, as for a user with a clean environment.
    for (const name of ["DATABASE_URL", "OPENCONVAI_DATA"]) {
      savedEnv[name] = process.env[name];
      delete process.env[name];
    }
  });

  afterAll(() => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value !== undefined) process.env[name] = value;
    }
  });

  beforeEach(async () => {
    storage = createTestStorage(backend);
    env = { OPENCONVAI_DATA: storage.dataDir };
    if (storage.databaseUrl) env.DATABASE_URL = storage.databaseUrl;
    storageArgs = ["--data", storage.dataDir];
    if (storage.databaseUrl) storageArgs.push("--database-url", storage.databaseUrl);
    const db = await storage.open();
    try {
      await seed(db, Date.now());
    } finally {
      await db.close();
    }
  });

  afterEach(async () => {
    await storage.cleanup();
  });

  /** `openconvai webhooks <args>` on this test's storage, in the test process. */
  const run = (...args: string[]) => runInProcess(["webhooks", ...args, ...storageArgs]);

  /** A delivery's status and attempt count, read from the store. */
  async function stateOf(deliveryId: string): Promise<{ status: string; maxAttempts: number } | undefined> {
    const db = await storage.open();
    try {
      const found = await db.outgoingWebhooks.getDelivery(deliveryId);
      return found && { status: found.delivery.status, maxAttempts: found.delivery.maxAttempts };
    } finally {
      await db.close();
    }
  }

  it("`deliveries` prints a table, newest first: time, id, event, conversation, status, attempts, last answer", async () => {
    const result = await run("deliveries");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const [header, ...rows] = result.stdout.trimEnd().split("\n");
    expect(header?.split(/\s{2,}/)).toEqual([
      "TIME",
      "DELIVERY",
      "EVENT",
      "CONVERSATION",
      "STATUS",
      "ATTEMPTS",
      "LAST",
    ]);
    expect(rows.map((r) => r.split(/\s+/)[1])).toEqual(["d4", "d3", "d2", "d1", "d0"]);
    const row = (id: string) => rows.find((r) => r.split(/\s+/)[1] === id) ?? "";
    expect(row("d2")).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +d2 +post_call_transcription +conv_d2 +failed +1\/4 +404 HTTP 404$/,
    );
    expect(row("d3")).toMatch(/ pending \(next \d\d:\d\d:\d\dZ\) +1\/4 +503 HTTP 503$/);
    expect(row("d1")).toMatch(/ delivered +1\/4 +200$/);
    expect(row("d4")).toMatch(/ pending \(next \d\d:\d\d:\d\dZ\) +0\/4 +-$/);
  });

  /** The delivery ids `deliveries --json` lists with these flags. */
  async function listedIds(...args: string[]): Promise<string[]> {
    const result = await run("deliveries", "--json", ...args);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout
      .trimEnd()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { delivery_id: string }).delivery_id);
  }

  it("`deliveries` filters by --failed, --pending with --webhook, --failed with --since", async () => {
    expect(await listedIds("--failed")).toEqual(["d2", "d0"]);
    expect(await listedIds("--pending", "--webhook", "wh_a")).toEqual(["d4", "d3"]);
    expect(await listedIds("--failed", "--since", "24h")).toEqual(["d2"]);
  });

  it("`deliveries --json` prints the API's shape; --conversation filters; nothing matching is said", async () => {
    const json = await run("deliveries", "--json", "--conversation", "conv_d2");
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      delivery_id: "d2",
      webhook_id: "wh_b",
      event_type: "post_call_transcription",
      conversation_id: "conv_d2",
      agent_id: "agent_1",
      status: "failed",
      attempts: 1,
      max_attempts: 4,
      last_status_code: 404,
      last_error: "HTTP 404",
      created_at_unix: expect.any(Number),
    });
    const none = await run("deliveries", "--conversation", "conv_unknown");
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: "No webhook deliveries match.\n" });
  });

  it("`deliveries --limit N` shows the newest N and says there are more", async () => {
    const limited = await run("deliveries", "--limit", "2");
    expect(limited.code, limited.stderr).toBe(0);
    expect(
      limited.stdout
        .trimEnd()
        .split("\n")
        .map((r) => r.split(/\s+/)[1]),
    ).toEqual(["DELIVERY", "d4", "d3"]);
    expect(limited.stderr).toMatch(/newest 2; pass a larger --limit/);
  });

  it("`deliveries` refuses --failed with --pending, and a --since it cannot read, as usage errors (exit 2)", async () => {
    const both = await run("deliveries", "--failed", "--pending");
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--failed.*cannot be used with.*--pending/);
    const since = await run("deliveries", "--since", "last week");
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since.*24h/);
  });

  it("`redeliver ID` queues one delivery again and says when it goes", async () => {
    const result = await run("redeliver", "d2");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "Queued delivery d2 again. The running server sends it at its next poll, within OPENCONVAI_WEBHOOK_POLL_MS (1000 ms here).\n",
    );
    // One attempt made, eight more (the default schedule's length).
    expect(await stateOf("d2")).toEqual({ status: "pending", maxAttempts: 9 });
    expect((await stateOf("d0"))?.status).toBe("failed");
  });

  it("`redeliver --failed --since T` queues the failed deliveries since T, and only those", async () => {
    const result = await run("redeliver", "--failed", "--since", "24h");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^Queued 1 delivery again\. The running server sends them at its next poll/,
    );
    expect((await stateOf("d2"))?.status).toBe("pending");
    expect((await stateOf("d0"))?.status).toBe("failed");
    expect((await stateOf("d1"))?.status).toBe("delivered");

    const again = await run("redeliver", "--failed");
    expect(again.stderr).toMatch(/^Queued 1 delivery again\./);
    expect((await stateOf("d0"))?.status).toBe("pending");

    const none = await run("redeliver", "--failed");
    expect(none).toMatchObject({ code: 0, stderr: "No webhook deliveries match: nothing was queued.\n" });
  });

  it("`redeliver` refuses an unknown id (exit 1), no id and no filter, or both (exit 2)", async () => {
    const unknown = await run("redeliver", "d_missing");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^No webhook delivery d_missing\. See `npx openconvai webhooks deliveries/,
    );
    const bare = await run("redeliver");
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/at least one filter/);
    const both = await run("redeliver", "d2", "--failed");
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    expect((await stateOf("d2"))?.status).toBe("failed");
  });

  it("the incoming side's dead letters are listed under `received-failed` and its old name `failed`", async () => {
    for (const name of ["received-failed", "failed"]) {
      const result = await run(name);
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/\tpost_call_mystery\tabababababababab\tunknown event type\n$/);
    }
  });

  it("the incoming side's waiting audio is listed under `received-pending` and `pending`; help tells the sides apart", async () => {
    for (const name of ["received-pending", "pending"]) {
      const result = await run(name);
      expect(result).toMatchObject({
        code: 0,
        stdout: "",
        stderr: "No audio is waiting for its transcription.\n",
      });
    }
    const help = await run("--help");
    expect(help.stdout).toMatch(/received-failed\|failed .*incoming/s);
    expect(help.stdout).toMatch(/received-pending\|pending .*incoming/s);
    expect(help.stdout).toMatch(/deliveries .*outgoing/s);
    expect(help.stdout).toMatch(/redeliver .*outgoing/s);
  });

  it("runs as the real command too: `redeliver ID` and its exit codes from bin.ts", async () => {
    const queued = await runCli(["webhooks", "redeliver", "d2"], { env });
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/^Queued delivery d2 again\. The running server sends it at its next poll/);
    expect((await stateOf("d2"))?.status).toBe("pending");
    expect((await runCli(["webhooks", "redeliver", "d_missing"], { env })).code).toBe(1);
    expect((await runCli(["webhooks", "redeliver"], { env })).code).toBe(2);
  });
});
