import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { importNdjson } from "../src/ingest/ndjson-importer.js";
import { ndjsonStreamSource } from "../src/ingest/ndjson-source.js";
import { openServices } from "../src/main.js";
import { syntheticNdjson } from "./fixtures/synthetic-conversations.js";
import { runCli } from "./support/run-cli.js";

// The CLI tests run on SQLite only: they start `openconvai` as a child process on a temp data dir.
// Every output path here is inside a temp directory of the test's own.

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Loads `count` synthetic conversations into a data dir. */
async function load(dataDir: string, count: number, turns = 4): Promise<void> {
  const services = await openServices(resolveConfig({ data: dataDir }, {}), "bulk");
  try {
    const { Readable } = await import("node:stream");
    await importNdjson(
      ndjsonStreamSource(Readable.from([syntheticNdjson(count, turns)])),
      services.conversations,
      {
        maxLineBytes: 1 << 24,
      },
    );
  } finally {
    await services.close();
  }
}

/** Runs the CLI as a child the test can signal; resolves with how it ended. */
function startCli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
} {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.OPENCONVAI_DATA;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], {
    cwd: REPO,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stderr }));
    },
  );
  return { child, done };
}

/** Runs the CLI, killing it if it has not ended within `ms` (so a hang fails the test, and ends). */
async function runBounded(args: string[], ms = 20_000) {
  const { child, done } = startCli(args);
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until a condition holds, checking every few milliseconds. */
async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe("openconvai export --out to what is not a plain new file", () => {
  let dir: string;
  let data: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
    data = path.join(dir, "data");
    await load(data, 30);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes straight into a FIFO, which stays a FIFO", async () => {
    const fifo = path.join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "ignore"] });
    let received = "";
    reader.stdout.on("data", (d: Buffer) => {
      received += d.toString();
    });
    const readerDone = new Promise((resolve) => reader.on("close", resolve));
    try {
      const result = await runCli(["export", "--out", fifo, "--data", data]);
      expect(result.stderr).toMatch(/30 conversations/);
      expect(result.code).toBe(0);
      await Promise.race([readerDone, new Promise((r) => setTimeout(r, 5000))]);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      expect(received.trim().split("\n")).toHaveLength(30);
      expect(readdirSync(dir).sort()).toEqual(["data", "pipe"]);
    } finally {
      reader.kill();
    }
  });

  it("writes through a symbolic link: the file it points at is replaced, the link stays", async () => {
    const real = path.join(dir, "real.ndjson");
    const link = path.join(dir, "link.ndjson");
    writeFileSync(real, "old content\n");
    symlinkSync(real, link);
    const result = await runCli(["export", "--out", link, "--data", data]);
    expect(result.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    const lines = readFileSync(real, "utf8").trim().split("\n");
    expect(lines).toHaveLength(30);
    expect(JSON.parse(lines[0] as string)).toHaveProperty("conversation_id");
    expect(readdirSync(dir).sort()).toEqual(["data", "link.ndjson", "real.ndjson"]);
  });

  it("follows a link to a file that does not exist yet (relative, two levels), creating it", async () => {
    mkdirSync(path.join(dir, "sub"));
    symlinkSync("sub/second", path.join(dir, "first"));
    symlinkSync("target.ndjson", path.join(dir, "sub", "second"));
    const result = await runCli(["export", "--out", path.join(dir, "first"), "--data", data]);
    expect(result.code).toBe(0);
    expect(lstatSync(path.join(dir, "first")).isSymbolicLink()).toBe(true);
    expect(lstatSync(path.join(dir, "sub", "second")).isSymbolicLink()).toBe(true);
    expect(
      readFileSync(path.join(dir, "sub", "target.ndjson"), "utf8")
        .trim()
        .split("\n"),
    ).toHaveLength(30);
  });

  it("refuses a directory for --out and points at --backup", async () => {
    const target = path.join(dir, "a-dir");
    mkdirSync(target);
    const result = await runCli(["export", "--out", target, "--data", data]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a directory; .*--backup/);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe("openconvai export whose output cannot be written", () => {
  let dir: string;
  let data: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
    data = path.join(dir, "data");
    // More than the output's buffer in the first page: the export has to wait for the file to drain.
    await load(data, 600);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("--out into a missing directory fails at once: one line naming the path and the error, exit 1", async () => {
    const out = path.join(dir, "no-such-dir", "x.ndjson");
    // --audio makes the export wait on the file system before its first write, so the output has
    // already failed (and is destroyed) when that write comes: the case that used to wait forever.
    const audio = path.join(dir, "audio");
    const result = await runBounded(["export", "--out", out, "--audio", audio, "--data", data]);
    expect(result.signal).toBeNull();
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^openconvai export: cannot write .*no-such-dir\/x\.ndjson: ENOENT: .*directory exists/,
      ),
    ]);
    expect(result.code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(["audio", "data"]);
  }, 30_000);
});

describe("openconvai export --audio with an id too long for a file name", () => {
  let dir: string;
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("names that recording by the hash of its id instead of failing", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
    const data = path.join(dir, "data");
    const longId = `conv_${"é".repeat(507)}`;
    const services = await openServices(resolveConfig({ data }, {}), "bulk");
    try {
      const { Readable } = await import("node:stream");
      const line = { ...JSON.parse(syntheticNdjson(1, 2)), conversation_id: longId };
      await importNdjson(
        ndjsonStreamSource(Readable.from([`${JSON.stringify(line)}\n`])),
        services.conversations,
        {
          maxLineBytes: 1 << 24,
        },
      );
      await services.conversations.putAudio(longId, Buffer.from("long-id bytes"), "audio/mpeg");
    } finally {
      await services.close();
    }
    const audio = path.join(dir, "audio");
    const result = await runCli([
      "export",
      "--out",
      path.join(dir, "out.ndjson"),
      "--audio",
      audio,
      "--data",
      data,
    ]);
    expect(result.stderr).toMatch(/1 conversations, 1 audio files/);
    expect(result.code).toBe(0);
    const hash = createHash("sha256").update(longId).digest("hex");
    expect(readdirSync(audio)).toEqual([`${hash}.mp3`]);
    expect(readFileSync(path.join(audio, `${hash}.mp3`), "utf8")).toBe("long-id bytes");
  });
});

describe("openconvai export --backup into a directory that is there", () => {
  let dir: string;
  let data: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
    data = path.join(dir, "data");
    await load(data, 30);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes straight into an existing empty directory (a mount point stays one), which then restores", async () => {
    const target = path.join(dir, "mounted");
    mkdirSync(target);
    const before = statSync(target);
    const result = await runCli(["export", "--backup", target, "--data", data]);
    expect(result.stderr).toMatch(/backup written to .*mounted: 30 conversations/);
    expect(result.code).toBe(0);
    // The very directory given, not one renamed over it.
    const after = statSync(target);
    expect([after.dev, after.ino]).toEqual([before.dev, before.ino]);
    expect(readdirSync(target)).toContain("manifest.json");
    expect(readdirSync(target)).not.toContain(".openconvai-partial");
    expect(readdirSync(dir).sort()).toEqual(["data", "mounted"]);

    const restored = await runCli(["import", target, "--data", path.join(dir, "restored")]);
    expect(restored.stderr).toMatch(/restored .*: 30 conversations created/);
    expect(restored.code).toBe(0);
  }, 60_000);

  it("refuses a DIR.partial it did not write (no marker), leaving it as it was, exit 2", async () => {
    const target = path.join(dir, "backup");
    mkdirSync(`${target}.partial`);
    writeFileSync(path.join(`${target}.partial`, "precious.txt"), "mine");
    const result = await runCli(["export", "--backup", target, "--data", data]);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/backup\.partial exists and was not written by openconvai .*; move or delete it/),
    ]);
    expect(result.code).toBe(2);
    expect(readdirSync(`${target}.partial`)).toEqual(["precious.txt"]);
    expect(existsSync(target)).toBe(false);
  });

  it("replaces a DIR.partial left by an earlier run (it carries the marker)", async () => {
    const target = path.join(dir, "backup");
    mkdirSync(`${target}.partial`);
    writeFileSync(path.join(`${target}.partial`, ".openconvai-partial"), "");
    writeFileSync(path.join(`${target}.partial`, "conversations.ndjson"), "half\n");
    const result = await runCli(["export", "--backup", target, "--data", data]);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["backup", "data"]);
    expect(readFileSync(path.join(target, "conversations.ndjson"), "utf8").trim().split("\n")).toHaveLength(
      30,
    );
  }, 60_000);
});

describe("openconvai export --backup and import DIR refuse what is not theirs", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("export --backup into a non-empty directory writes nothing and exits 2", async () => {
    const target = path.join(dir, "full");
    mkdirSync(target);
    writeFileSync(path.join(target, "keep.txt"), "mine");
    const result = await runCli(["export", "--backup", target, "--data", path.join(dir, "data")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not empty; give a new \(or empty\) directory/);
    expect(readdirSync(target)).toEqual(["keep.txt"]);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  it("import of a directory without a manifest says it is not a backup and exits 2", async () => {
    const result = await runCli(["import", dir, "--data", path.join(dir, "data")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a directory without manifest\.json, so not a backup/);
  });
});

/** Gives the first conversation (in id order) a recording and makes its blob a FIFO; returns the FIFO. */
async function blockFirstRecording(dataDir: string): Promise<string> {
  const services = await openServices(resolveConfig({ data: dataDir }, {}), "bulk");
  try {
    const [first] = await services.db.conversations.scanConversations(null, 1);
    if (!first) throw new Error("no conversations loaded");
    await services.conversations.putAudio(first.conversationId, Buffer.from("ID3 bytes"), "audio/mpeg");
    const [withAudio] = await services.db.conversations.scanConversations(null, 1);
    const fifo = path.join(dataDir, "blobs", withAudio?.audio?.blobKey ?? "");
    rmSync(fifo);
    execFileSync("mkfifo", [fifo]);
    return fifo;
  } finally {
    await services.close();
  }
}

/** Opens a FIFO's writing end once a reader has it open (polling, never blocking); undefined once `ended`. */
async function openWriterWhenRead(fifo: string, ended: () => boolean, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (ended()) return undefined;
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENXIO" || Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

describe("openconvai export stopped by a signal", () => {
  let dir: string;
  let data: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-export-"));
    data = path.join(dir, "data");
    await load(data, 3000, 10);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("SIGINT mid-export deletes OUT.partial, leaves OUT as it was, says so, and exits 130", async () => {
    const out = path.join(dir, "out.ndjson");
    writeFileSync(out, "the previous export\n");
    // OUT.partial is a FIFO the test reads one chunk of and then leaves alone: the export (megabytes)
    // is stuck on the full pipe, so the signal surely comes mid-export, however fast the machine.
    const partial = `${out}.partial`;
    execFileSync("mkfifo", [partial]);
    const { child, done } = startCli(["export", "--out", out, "--data", data]);
    const reader = createReadStream(partial);
    try {
      await new Promise<void>((resolve, reject) => {
        reader.once("data", () => {
          reader.pause();
          resolve();
        });
        reader.once("error", reject);
      });
      child.kill("SIGINT");
      // Let the write under way finish, so the export can close the file and clean up.
      await new Promise((r) => setTimeout(r, 100));
      reader.on("data", () => undefined);
      reader.resume();
      const result = await done;
      expect(result.stderr).toMatch(
        /stopped by SIGINT after \d+ of 3000 conversations; .*out\.ndjson\.partial was deleted and .*out\.ndjson was not touched\. Run the same command again/,
      );
      expect(result.code).toBe(130);
      expect(readdirSync(dir).sort()).toEqual(["data", "out.ndjson"]);
      expect(readFileSync(out, "utf8")).toBe("the previous export\n");
    } finally {
      reader.destroy();
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("SIGINT mid-backup deletes the partial backup directory and exits 130", async () => {
    // The first recording's blob is a FIFO nobody writes: reading it waits until the test opens
    // it, which it does only after the signal, so the backup cannot be done before the signal.
    const fifo = await blockFirstRecording(data);
    const backup = path.join(dir, "backup");
    const { child, done } = startCli(["export", "--backup", backup, "--data", data]);
    let writer: number | undefined;
    let ended = false;
    void done.then(() => {
      ended = true;
    });
    try {
      await waitFor(() => existsSync(path.join(`${backup}.partial`, "conversations.ndjson")));
      child.kill("SIGINT");
      // Stopped before it reached the recording, the backup never opens the FIFO: nothing to unblock.
      writer = await openWriterWhenRead(fifo, () => ended);
      const result = await done;
      expect(result.stderr).toMatch(
        /stopped by SIGINT after \d+ of 3000 conversations; .*backup\.partial was deleted/,
      );
      expect(result.code).toBe(130);
      expect(readdirSync(dir)).toEqual(["data"]);
    } finally {
      if (writer !== undefined) closeSync(writer);
      child.kill("SIGKILL");
    }
  }, 60_000);
});
