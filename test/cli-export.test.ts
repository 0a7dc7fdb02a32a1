import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
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
    const { child, done } = startCli(["export", "--out", out, "--data", data]);
    await waitFor(() => existsSync(`${out}.partial`));
    child.kill("SIGINT");
    const result = await done;
    expect(result.stderr).toMatch(
      /stopped by SIGINT after \d+ of 3000 conversations; .*out\.ndjson\.partial was deleted and .*out\.ndjson was not touched\. Run the same command again/,
    );
    expect(result.code).toBe(130);
    expect(readdirSync(dir).sort()).toEqual(["data", "out.ndjson"]);
    expect(readFileSync(out, "utf8")).toBe("the previous export\n");
  }, 60_000);

  it("SIGINT mid-backup deletes the partial backup directory and exits 130", async () => {
    const backup = path.join(dir, "backup");
    const { child, done } = startCli(["export", "--backup", backup, "--data", data]);
    await waitFor(() => existsSync(path.join(`${backup}.partial`, "conversations.ndjson")));
    child.kill("SIGINT");
    const result = await done;
    expect(result.stderr).toMatch(
      /stopped by SIGINT after \d+ of 3000 conversations; .*backup\.partial was deleted/,
    );
    expect(result.code).toBe(130);
    expect(readdirSync(dir)).toEqual(["data"]);
  }, 60_000);
});
