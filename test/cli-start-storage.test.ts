import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/store/open-database.js";
import { SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";
import { POSTGRES_TEST_URL } from "./support/backends.js";
import { type CliResult, runCli } from "./support/run-cli.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A start-up failure as docs/configuration.md promises it: one line on stderr, exit 2, no stack. */
function expectOneLineFailure(result: CliResult): string {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(/^openconvai: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? "";
}

/**
 * Runs the CLI as a user file permissions apply to: as root (where chmod stops no write) the
 * child runs as `nobody`; otherwise as this user.
 */
function runCliUnprivileged(args: string[]): Promise<CliResult> {
  const asRoot = process.getuid?.() === 0;
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: tmpdir() };
  delete env.DATABASE_URL;
  delete env.OPENCONVAI_DATA;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], {
      cwd: REPO,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "openconvai-start-"));
  // Readable and traversable by the unprivileged child.
  chmodSync(root, 0o755);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("a data dir that cannot be used stops every command at start with one line and exit 2", () => {
  it.each([
    [["serve", "--port", "0"]],
    [["keys", "list"]],
    [["keys", "create"]],
    [["seed", "--demo"]],
    [["export", "--out", "-"]],
    [["webhooks", "failed"]],
  ])("a file where the data dir should be: %j", async (args) => {
    const file = path.join(root, "a-file");
    writeFileSync(file, "not a directory");
    const line = expectOneLineFailure(await runCli([...args, "--data", file]));
    expect(line).toContain(`${file} is a file, not a directory`);
    expect(line).toContain("--data");
  });

  it("a data dir below a file names the file in the way", async () => {
    const file = path.join(root, "in-the-way");
    writeFileSync(file, "");
    const line = expectOneLineFailure(await runCli(["keys", "list", "--data", path.join(file, "data")]));
    expect(line).toContain(`${file} (on the way to ${path.join(file, "data")}) is a file`);
  });

  it("a directory no one may create a file in, even root (/proc/self), is refused before the database opens", async () => {
    const line = expectOneLineFailure(await runCli(["keys", "list", "--data", "/proc/self"]));
    expect(line).toContain("cannot write in /proc/self");
    expect(line).toContain("pass --data a writable directory");
  });

  it("a data dir that cannot be created (under /proc) is refused, not retried forever", async () => {
    const line = expectOneLineFailure(await runCli(["keys", "list", "--data", "/proc/openconvai-data"]));
    expect(line).toContain("cannot create the directory /proc/openconvai-data");
  });

  it("an existing data dir made read-only (chmod -R a-w) is refused at start, before it says it is serving", async () => {
    const dataDir = path.join(root, "read-only");
    mkdirSync(dataDir);
    const db = await openDatabase({ dataDir, databaseUrl: undefined });
    await db.close();
    mkdirSync(path.join(dataDir, "blobs"));
    mkdirSync(path.join(dataDir, "tmp"));
    for (const dir of [dataDir, path.join(dataDir, "blobs"), path.join(dataDir, "tmp")])
      chmodSync(dir, 0o555);
    chmodSync(path.join(dataDir, SQLITE_FILE_NAME), 0o444);
    const result = await runCliUnprivileged(["serve", "--port", "0", "--data", dataDir]);
    const line = expectOneLineFailure(result);
    expect(line).toContain(`cannot write in ${dataDir} (permission denied)`);
    expect(result.stderr).not.toContain("serving");
  });

  it("a SQLite file that is read-only in a writable directory is refused at start", async () => {
    const dataDir = path.join(root, "read-only-file");
    mkdirSync(dataDir);
    const db = await openDatabase({ dataDir, databaseUrl: undefined });
    await db.close();
    // Everything writable by anyone but the database file itself.
    for (const dir of ["", "blobs", "tmp"]) {
      mkdirSync(path.join(dataDir, dir), { recursive: true });
      chmodSync(path.join(dataDir, dir), 0o777);
    }
    chmodSync(path.join(dataDir, SQLITE_FILE_NAME), 0o444);
    const result = await runCliUnprivileged(["keys", "create", "--data", dataDir]);
    const line = expectOneLineFailure(result);
    expect(line).toContain(`the SQLite database ${path.join(dataDir, SQLITE_FILE_NAME)} is read-only`);
  });

  it("a file that is not a SQLite database says so", async () => {
    const file = path.join(root, "not-a-db.sqlite");
    writeFileSync(file, "x".repeat(4096));
    const line = expectOneLineFailure(
      await runCli(["keys", "list", "--data", path.join(root, "d1"), "--database-url", `sqlite://${file}`]),
    );
    expect(line).toContain(`${file} is not a usable SQLite database`);
  });
});

describe("a PostgreSQL server that cannot be used stops the command with one line and exit 2", () => {
  it("a closed port: nothing is listening, and how to check", async () => {
    const line = expectOneLineFailure(
      await runCli([
        "keys",
        "list",
        "--data",
        path.join(root, "pg1"),
        "--database-url",
        "postgres://postgres@127.0.0.1:1/x",
      ]),
    );
    expect(line).toContain("nothing is listening at 127.0.0.1:1");
    expect(line).toContain("pg_isready -h 127.0.0.1 -p 1");
  });

  it("a host name that does not resolve", async () => {
    const line = expectOneLineFailure(
      await runCli([
        "serve",
        "--port",
        "0",
        "--data",
        path.join(root, "pg2"),
        "--database-url",
        "postgres://postgres@openconvai-no-such-host.invalid/x",
      ]),
    );
    expect(line).toContain('the host "openconvai-no-such-host.invalid" in --database-url was not found');
  });

  it("a URL that does not parse names the setting and never shows the password", async () => {
    const line = expectOneLineFailure(
      await runCli([
        "keys",
        "list",
        "--data",
        path.join(root, "pg0"),
        "--database-url",
        "postgres://u:secret@host:notaport/db",
      ]),
    );
    expect(line).toContain("--database-url / DATABASE_URL");
    expect(line).toContain("is not a valid URL");
    expect(line).not.toContain("secret");
  });

  it.runIf(POSTGRES_TEST_URL)("a database that does not exist: the createdb command for it", async () => {
    const url = new URL(POSTGRES_TEST_URL ?? "");
    url.pathname = "/openconvai_no_such_database";
    url.search = "";
    const line = expectOneLineFailure(
      await runCli(["keys", "list", "--data", path.join(root, "pg3"), "--database-url", url.toString()]),
    );
    expect(line).toContain('the database "openconvai_no_such_database" does not exist');
    expect(line).toContain(
      `createdb -h ${url.hostname} -p ${url.port || "5432"} -U ${url.username || "postgres"} openconvai_no_such_database`,
    );
  });

  it.runIf(POSTGRES_TEST_URL)("a user that does not exist is named, with where to fix it", async () => {
    const url = new URL(POSTGRES_TEST_URL ?? "");
    url.username = "openconvai_no_such_user";
    url.password = "wrong-password";
    url.search = "";
    const line = expectOneLineFailure(
      await runCli(["keys", "list", "--data", path.join(root, "pg4"), "--database-url", url.toString()]),
    );
    expect(line).toContain('user "openconvai_no_such_user"');
    expect(line).toContain("--database-url");
    expect(line).not.toContain("wrong-password");
  });
});

describe("serve: an address it cannot listen on is one line and exit 2", () => {
  it("a --host that is not an address of this machine (192.0.2.1, a documentation address)", async () => {
    const line = expectOneLineFailure(
      await runCli(["serve", "--host", "192.0.2.1", "--port", "0", "--data", path.join(root, "host1")]),
    );
    expect(line).toContain("192.0.2.1 is not an address of this machine");
    expect(line).toContain("--host 127.0.0.1");
  });

  it("a --port that is not a port", async () => {
    const line = expectOneLineFailure(
      await runCli(["serve", "--port", "99999", "--data", path.join(root, "port1")]),
    );
    expect(line).toContain("--port / OPENCONVAI_PORT must be a whole number from 0 to 65535");
  });
});

describe("--database-url sqlite: names the SQLite file", () => {
  it("sqlite:///abs/path is the file every command uses; blobs stay under --data", async () => {
    const dataDir = path.join(root, "blobs-here");
    const file = path.join(root, "elsewhere", "chosen.sqlite");
    const storage = ["--data", dataDir, "--database-url", `sqlite://${file}`];
    const created = await runCli(["keys", "create", "--name", "via-url", ...storage]);
    expect(created.code, created.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(path.join(dataDir, SQLITE_FILE_NAME))).toBe(false);
    expect(existsSync(path.join(dataDir, "blobs"))).toBe(true);
    const listed = await runCli(["keys", "list", ...storage]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("via-url");
    // The data dir's own database (created by this run, had the URL been ignored) has no such key.
    const plain = await runCli(["keys", "list", "--data", dataDir]);
    expect(plain.stdout).not.toContain("via-url");
  });

  it("sqlite://host/… is refused: SQLite is a local file", async () => {
    const line = expectOneLineFailure(
      await runCli(["keys", "list", "--database-url", "sqlite://server/x.sqlite"]),
    );
    expect(line).toContain("names a host");
    expect(line).toContain("sqlite:///absolute/path");
  });
});
