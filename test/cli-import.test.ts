import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import type { ConversationRecord } from "../src/domain/conversation.js";
import { ImportInterrupted, importNdjson, type RecordSink } from "../src/ingest/ndjson-importer.js";
import { ndjsonStreamSource, openNdjsonFile } from "../src/ingest/ndjson-source.js";
import { SILENT_MP3_FRAME_HEADER } from "../src/ingest/silent-mp3.js";
import { startServer } from "../src/main.js";
import type { Database } from "../src/store/store.js";
import { syntheticConversation, syntheticNdjson } from "./fixtures/synthetic-conversations.js";
import { createTestStorage, type TestStorage } from "./support/backends.js";
import { runCli } from "./support/run-cli.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Runs the CLI as a child with stdin left open, so the test can write to it and signal it. */
function startCli(
  args: string[],
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  delete env.DATABASE_URL;
  delete env.OPENCONVAI_DATA;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], {
    cwd: REPO,
    env,
    stdio: ["pipe", "ignore", "pipe"],
  });
  // What is still being written when the child stops reading (it was signalled) goes nowhere.
  child.stdin?.on("error", () => undefined);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
  return { child, done };
}

/** Waits until a condition holds, checking every few milliseconds. */
async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The CLI tests run on SQLite only: they start `openconvai` as a child process on a temp data dir.

const line = (doc: unknown) => JSON.stringify(doc);

/** A file with good and bad lines; the bad ones are 2, 4, 6 and 9. */
function mixedNdjson(): string {
  const noId = syntheticConversation(101, 4);
  delete noId.conversation_id;
  const noStart = syntheticConversation(102, 4);
  delete (noStart.metadata as Record<string, unknown>).start_time_unix_secs;
  return [
    line(syntheticConversation(0, 4)), // 1
    '{"conversation_id": "conv_broken", ', // 2: invalid JSON
    line(syntheticConversation(1, 4)), // 3
    line(noId), // 4: no conversation_id
    "", // 5: empty, skipped
    line(noStart), // 6: fails validation
    line(syntheticConversation(2, 4)), // 7
    "   \t", // 8: whitespace only, skipped
    "[1, 2]", // 9: not an object
    line(syntheticConversation(3, 4)), // 10, no trailing newline
  ].join("\n");
}

describe("openconvai import", () => {
  let storage: TestStorage;
  let file: string;

  beforeEach(() => {
    storage = createTestStorage("sqlite");
    file = path.join(storage.dataDir, "input.ndjson");
  });
  afterEach(async () => {
    await storage.cleanup();
  });

  async function withDb<T>(body: (db: Database) => Promise<T>): Promise<T> {
    const db = await storage.open();
    try {
      return await body(db);
    } finally {
      await db.close();
    }
  }

  it("loads a good file, and replaces on a second run", async () => {
    writeFileSync(file, syntheticNdjson(40, 20));
    const first = await runCli(["import", file, "--data", storage.dataDir]);
    expect(first.code).toBe(0);
    // Not a terminal: no progress output, just the summary line.
    expect(first.stderr.trim().split("\n")).toHaveLength(1);
    expect(first.stderr).toMatch(/40 created, 0 replaced, 0 bad lines; [\d.]+ s, \d+ conversations\/s/);
    await withDb(async (db) => {
      expect(await db.conversations.countConversations()).toBe(40);
      const stored = await db.conversations.getConversation("conv_00000007");
      expect(JSON.parse(stored?.json ?? "null")).toEqual(syntheticConversation(7, 20));
    });
    const second = await runCli(["import", file, "--data", storage.dataDir]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/0 created, 40 replaced, 0 bad lines/);
  });

  it("reports bad lines by number with their validation messages, loads the rest, and exits 1", async () => {
    writeFileSync(file, mixedNdjson());
    const result = await runCli(["import", file, "--data", storage.dataDir]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^line 2: JSON decode error: /);
    expect(lines[1]).toMatch(/^line 4: conversation_id: Field required/);
    expect(lines[2]).toMatch(/^line 6: metadata\.start_time_unix_secs: Field required/);
    expect(lines[3]).toBe("line 9: Input should be a valid dictionary or object");
    expect(lines[4]).toMatch(/4 created, 0 replaced, 4 bad lines/);
    await withDb(async (db) => {
      expect(await db.conversations.countConversations()).toBe(4);
      for (const i of [0, 1, 2, 3]) {
        expect(await db.conversations.getConversation(`conv_${String(i).padStart(8, "0")}`)).toBeDefined();
      }
    });
  });

  it("--strict stops at the first bad line and writes nothing", async () => {
    writeFileSync(file, mixedNdjson());
    const result = await runCli(["import", "--strict", file, "--data", storage.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^line 2: JSON decode error/);
    expect(result.stderr).not.toMatch(/line 4:/);
    expect(result.stderr).toMatch(/--strict: line 2 is bad, so nothing was written/);
    expect(result.stderr).toMatch(/0 created, 0 replaced, 1 bad line;/);
    await withDb(async (db) => expect(await db.conversations.countConversations()).toBe(0));

    writeFileSync(file, syntheticNdjson(30, 6));
    const good = await runCli(["import", "--strict", file, "--data", storage.dataDir]);
    expect(good.code).toBe(0);
    expect(good.stderr).toMatch(/30 created, 0 replaced, 0 bad lines/);
  });

  it("reads stdin with -, and --strict on stdin writes nothing and leaves no spool file", async () => {
    const spools = () => readdirSync(tmpdir()).filter((n) => n.startsWith("openconvai-import-")).length;
    const before = spools();
    const bad = await runCli(["import", "--strict", "-", "--data", storage.dataDir], {
      input: mixedNdjson(),
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nothing was written/);
    await withDb(async (db) => expect(await db.conversations.countConversations()).toBe(0));

    const good = await runCli(["import", "-", "--data", storage.dataDir], { input: syntheticNdjson(25, 10) });
    expect(good.code).toBe(0);
    expect(good.stderr).toMatch(/25 created, 0 replaced, 0 bad lines/);
    await withDb(async (db) => expect(await db.conversations.countConversations()).toBe(25));
    expect(spools()).toBe(before);
  });

  it("SIGINT while --strict copies stdin deletes the copy, says so, and exits 130", async () => {
    const temp = mkdtempSync(path.join(tmpdir(), "openconvai-tmpdir-"));
    try {
      const run = startCli(["import", "--strict", "-", "--data", storage.dataDir], { TMPDIR: temp });
      // Stdin stays open: the copy is being written when the signal comes.
      run.child.stdin?.write(syntheticNdjson(20, 4));
      await waitFor(() => readdirSync(temp).some((n) => n.startsWith("openconvai-import-")));
      run.child.kill("SIGINT");
      const result = await run.done;
      expect(result.stderr).toMatch(
        /stopped by SIGINT: nothing was written; its temporary copy of the input was deleted\. Import the same input again to finish/,
      );
      expect(result.code).toBe(130);
      expect(readdirSync(temp).filter((n) => n.startsWith("openconvai-import-"))).toEqual([]);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it("SIGINT mid-import from stdin keeps the batches written, says how many, and exits 130", async () => {
    const run = startCli(["import", "-", "--data", storage.dataDir]);
    // Lines are checked some chunks ahead of the writer: enough input that batches of 1,000 are
    // written while stdin stays open.
    run.child.stdin?.write(syntheticNdjson(10_000, 2));
    await withDb(async (db) => {
      await waitFor(async () => (await db.conversations.countConversations()) >= 2000);
    });
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(130);
    const written = /stopped by SIGINT: (\d+) conversations were written/.exec(result.stderr)?.[1];
    expect(written).toBeDefined();
    expect(result.stderr).toMatch(
      /Import the same input again to finish: conversations already written are replaced/,
    );
    await withDb(async (db) => expect(await db.conversations.countConversations()).toBe(Number(written)));
  }, 60_000);

  it("reports a line over OPENCONVAI_MAX_JSON_BYTES as bad and loads the others", async () => {
    const small = {
      ...syntheticConversation(0, 0),
      analysis: null,
      conversation_initiation_client_data: null,
    };
    const big = syntheticConversation(1, 30);
    writeFileSync(
      file,
      `${line(small)}\n${line(big)}\n${line({ ...small, conversation_id: "conv_small_2" })}\n`,
    );
    const result = await runCli(["import", file, "--data", storage.dataDir], {
      env: { OPENCONVAI_MAX_JSON_BYTES: "2048" },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^line 2: The line is larger than the limit of 2048 bytes/);
    expect(result.stderr).toMatch(/2 created, 0 replaced, 1 bad line;/);
  });

  it("exits 2 with a message for a file that does not exist", async () => {
    const result = await runCli([
      "import",
      path.join(storage.dataDir, "missing.ndjson"),
      "--data",
      storage.dataDir,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read .*missing\.ndjson/);
  });
});

describe("importNdjson", () => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage("sqlite");
    db = await storage.open();
  });
  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  /** A sink over the real store that records the size of every transaction it is asked for. */
  function spySink(alter?: (records: readonly ConversationRecord[], call: number) => ConversationRecord[]) {
    const calls: number[] = [];
    const sink: RecordSink = {
      putRecords: (records) => {
        calls.push(records.length);
        return db.conversations.upsertConversations(alter ? alter(records, calls.length) : records);
      },
    };
    return { calls, sink };
  }

  it("writes each batch as one upsertConversations call (one transaction)", async () => {
    const file = path.join(storage.dataDir, "in.ndjson");
    writeFileSync(file, syntheticNdjson(2500, 2));
    const { calls, sink } = spySink();
    const summary = await importNdjson(await openNdjsonFile(file), sink, { maxLineBytes: 1 << 20 });
    expect(calls).toEqual([1000, 1000, 500]);
    expect(summary).toMatchObject({ created: 2500, replaced: 0, bad: 0, lines: 2500 });
    expect(await db.conversations.countConversations()).toBe(2500);
  });

  it("a batch that fails leaves none of its conversations, and earlier batches stay whole", async () => {
    const file = path.join(storage.dataDir, "in.ndjson");
    writeFileSync(file, syntheticNdjson(2500, 2));
    // Break one record in the middle of the second batch: the database rejects it mid-transaction.
    const { calls, sink } = spySink((records, call) =>
      call === 2
        ? records.map((r, i) =>
            i === 600 ? { ...r, index: { ...r.index, agentId: null as unknown as string } } : r,
          )
        : [...records],
    );
    const error = await importNdjson(await openNdjsonFile(file), sink, { maxLineBytes: 1 << 20 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImportInterrupted);
    expect((error as ImportInterrupted).summary.created).toBe(1000);
    expect(calls).toEqual([1000, 1000]);
    expect(await db.conversations.countConversations()).toBe(1000);
    expect(await db.conversations.getConversation("conv_00000999")).toBeDefined();
    // Records before the broken one in the same batch were rolled back with it.
    expect(await db.conversations.getConversation("conv_00001000")).toBeUndefined();
    expect(await db.conversations.getConversation("conv_00001599")).toBeUndefined();
  });

  it("handles lines split across chunks, CRLF, a BOM, blank lines and a last line without newline", async () => {
    const text = `\uFEFF${line(syntheticConversation(0, 3))}\r\n\r\n${line(syntheticConversation(1, 3))}\n{oops}\n${line(syntheticConversation(2, 3))}`;
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const bad: number[] = [];
    const { sink } = spySink();
    const summary = await importNdjson(ndjsonStreamSource(Readable.from(chunks)), sink, {
      maxLineBytes: 1 << 20,
      onBadLine: (b) => bad.push(b.line),
    });
    expect(bad).toEqual([4]);
    expect(summary).toMatchObject({ created: 3, bad: 1, blank: 1, lines: 5 });
  });

  it("drops an oversized line as it streams and numbers the following lines correctly", async () => {
    const huge = `{"conversation_id": "conv_huge", "padding": "${"x".repeat(300_000)}"}`;
    const text = `${line(syntheticConversation(0, 3))}\n${huge}\n${line(syntheticConversation(1, 3))}\n{bad\n`;
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
    const bad: { line: number; type: string | undefined }[] = [];
    const { sink } = spySink();
    const summary = await importNdjson(ndjsonStreamSource(Readable.from(chunks)), sink, {
      maxLineBytes: 10_000,
      onBadLine: (b) => bad.push({ line: b.line, type: b.issues[0]?.type }),
    });
    expect(bad).toEqual([
      { line: 2, type: "too_long" },
      { line: 4, type: "json_invalid" },
    ]);
    expect(summary).toMatchObject({ created: 2, bad: 2 });
  });

  it("strict: a bad line anywhere means no write at all, also from a stream", async () => {
    const text = `${syntheticNdjson(1500, 2)}{"conversation_id": 7}\n`;
    const { calls, sink } = spySink();
    const summary = await importNdjson(ndjsonStreamSource(Readable.from([Buffer.from(text)])), sink, {
      maxLineBytes: 1 << 20,
      strict: true,
    });
    expect(calls).toEqual([]);
    expect(summary.strictFailure?.line).toBe(1501);
    // Among the line's issues (the validator reports all of them, in schema order).
    expect(summary.strictFailure?.issues).toContainEqual(
      expect.objectContaining({ loc: ["line", 1501, "conversation_id"], type: "string_type" }),
    );
    expect(await db.conversations.countConversations()).toBe(0);
  });
});

describe("openconvai seed --demo", () => {
  let storage: TestStorage;

  beforeEach(() => {
    storage = createTestStorage("sqlite");
  });
  afterEach(async () => {
    await storage.cleanup();
  });

  it("loads 12 conversations with MP3 audio, is idempotent, and the SDK reads them back", async () => {
    const first = await runCli(["seed", "--demo", "--data", storage.dataDir]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/Loaded 12 demo conversations with audio .*\(12 created, 0 replaced/);
    expect(first.stderr).toMatch(/openconvai serve/);
    const second = await runCli(["seed", "--demo", "--data", storage.dataDir]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/\(0 created, 12 replaced/);

    const db = await storage.open();
    try {
      expect(await db.conversations.countConversations()).toBe(12);
      for (let n = 1; n <= 12; n++) {
        const stored = await db.conversations.getConversation(`conv_demo_${String(n).padStart(2, "0")}`);
        expect(stored?.audio).toMatchObject({ contentType: "audio/mpeg" });
        const blob = readFileSync(path.join(storage.dataDir, "blobs", stored?.audio?.blobKey ?? "missing"));
        expect(blob.length).toBe(stored?.audio?.size);
        expect(blob.subarray(0, 4)).toEqual(SILENT_MP3_FRAME_HEADER);
      }
    } finally {
      await db.close();
    }

    const apiKey = "oc_test_seed_key";
    const config = resolveConfig(
      { host: "127.0.0.1", port: "0", data: storage.dataDir },
      { OPENCONVAI_BOOTSTRAP_KEY: apiKey },
    );
    const server = await startServer(config, pino({ level: "silent" }));
    try {
      const client = new ElevenLabsClient({ apiKey, baseUrl: server.url, maxRetries: 0 });
      const page = await client.conversationalAi.conversations.list({ pageSize: 100 });
      expect(page.conversations).toHaveLength(12);
      for (const item of page.conversations) {
        const conversation = await client.conversationalAi.conversations.get(item.conversationId);
        expect(conversation.hasAudio).toBe(true);
      }
      // connection: close, because a kept-alive connection after a streamed response holds up server.stop().
      const audio = await fetch(`${server.url}/v1/convai/conversations/conv_demo_07/audio`, {
        headers: { "xi-api-key": apiKey, connection: "close" },
      });
      expect(audio.status).toBe(200);
      expect(audio.headers.get("content-type")).toMatch(/^audio\/mpeg/);
      expect(Buffer.from(await audio.arrayBuffer()).subarray(0, 4)).toEqual(SILENT_MP3_FRAME_HEADER);
    } finally {
      await server.stop();
    }
  });

  it("without --demo says what to do and exits 2", async () => {
    const result = await runCli(["seed", "--data", storage.dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/seed --demo/);
  });
});
