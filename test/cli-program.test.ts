import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiKeyService } from "../src/auth/api-keys.js";
import { buildProgram } from "../src/cli/program.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

/** What a command run in this process wrote. */
interface Output {
  stdout: string;
  stderr: string;
}

/**
 * Runs `openconvai <args>` in the test process: a fresh program (commander keeps the values it
 * parsed, so one program per run), its output captured from process.stdout and process.stderr.
 */
async function runInProcess(args: string[]): Promise<Output> {
  const output: Output = { stdout: "", stderr: "" };
  const capture = (stream: "stdout" | "stderr") =>
    vi.spyOn(process[stream], "write").mockImplementation((chunk: string | Uint8Array) => {
      output[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
      return true;
    });
  const stdout = capture("stdout");
  const stderr = capture("stderr");
  try {
    await buildProgram().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return output;
}

describe.each(BACKENDS)("the command line run in the test process on %s", (backend) => {
  let storage: TestStorage;
  let storageArgs: string[];
  const savedEnv: Record<string, string | undefined> = {};

  beforeAll(() => {
    // Only the flags below choose the storage, as they would for a user with a clean environment.
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

  beforeEach(() => {
    storage = createTestStorage(backend);
    storageArgs = ["--data", storage.dataDir];
    if (storage.databaseUrl) storageArgs.push("--database-url", storage.databaseUrl);
  });

  afterEach(async () => {
    process.exitCode = undefined;
    await storage.cleanup();
  });

  it("builds the program without parsing anything", () => {
    const program = buildProgram();
    expect(program.name()).toBe("openconvai");
    expect(program.commands.map((c) => c.name())).toEqual([
      "serve",
      "import",
      "export",
      "sync",
      "seed",
      "keys",
      "webhooks",
      "blobs",
    ]);
  });

  it("creates, lists and revokes a key", async () => {
    const empty = await runInProcess(["keys", "list", ...storageArgs]);
    expect(empty.stdout).toBe("");
    // The hint repeats the storage flags in use, so it reaches the same keys.
    expect(empty.stderr).toMatch(/^No keys yet\. Create one with `npx openconvai keys create --data \S+/);
    expect(empty.stderr).toContain(`--data ${storage.dataDir}`);
    if (storage.databaseUrl) expect(empty.stderr).toContain("--database-url");

    const created = await runInProcess(["keys", "create", "--name", "ci", ...storageArgs]);
    const secret = created.stdout.trim();
    expect(created.stdout).toBe(`${secret}\n`);
    const id = /^Created key (\S+) \(ci\)\. It is shown only once:\n$/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();

    const listed = await runInProcess(["keys", "list", ...storageArgs]);
    expect(listed.stderr).toBe("");
    const [row, ...rest] = listed.stdout.split("\n").filter((line) => line !== "");
    expect(rest).toEqual([]);
    const [listedId, prefix, name, createdAt, state] = (row ?? "").split("\t");
    expect(listedId).toBe(id);
    expect(prefix?.endsWith("…")).toBe(true);
    expect(secret.startsWith(prefix?.slice(0, -1) ?? "?")).toBe(true);
    expect(name).toBe("ci");
    expect(Math.abs(Date.parse(createdAt ?? "") - Date.now())).toBeLessThan(60_000);
    expect(state).toBe("active");

    const revoked = await runInProcess(["keys", "revoke", id as string, ...storageArgs]);
    expect(revoked).toEqual({
      stdout: "",
      stderr: `Revoked key ${id} (${prefix}, ci). Running servers stop accepting it within 5 seconds.\n`,
    });
    expect(process.exitCode).toBeUndefined();
    const after = await runInProcess(["keys", "list", ...storageArgs]);
    expect(after.stdout).toMatch(/\trevoked \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
  });

  /** Creates a key through the CLI; its id, the prefix as `keys list` shows it, and the key. */
  async function createKey(name: string): Promise<{ id: string; shown: string; secret: string }> {
    const created = await runInProcess(["keys", "create", "--name", name, ...storageArgs]);
    const secret = created.stdout.trim();
    const listed = await runInProcess(["keys", "list", ...storageArgs]);
    const row = listed.stdout.split("\n").find((line) => line.split("\t")[2] === name) ?? "";
    const [id = "", shown = ""] = row.split("\t");
    return { id, shown, secret };
  }

  /** The state column of `keys list` for each key, by name. */
  async function keyStates(): Promise<Record<string, string>> {
    const listed = await runInProcess(["keys", "list", ...storageArgs]);
    const rows = listed.stdout.split("\n").filter((line) => line !== "");
    return Object.fromEntries(rows.map((line) => line.split("\t")).map((c) => [c[2], c[4]?.split(" ")[0]]));
  }

  it("revokes a key by the prefix exactly as `keys list` shows it, ellipsis included", async () => {
    const key = await createKey("shown");
    await createKey("other");
    expect(key.shown).toMatch(/^oc_.{7}…$/u);
    const revoked = await runInProcess(["keys", "revoke", key.shown, ...storageArgs]);
    expect(revoked.stderr).toMatch(new RegExp(`^Revoked key ${key.id} `));
    expect(process.exitCode).toBeUndefined();
    expect(await keyStates()).toEqual({ shown: "revoked", other: "active" });
  });

  it("revokes a key by the full key, and by a shorter prefix or the start of its id", async () => {
    const full = await createKey("full");
    const short = await createKey("short");
    const byId = await createKey("by-id");
    await createKey("bystander");
    await runInProcess(["keys", "revoke", full.secret, ...storageArgs]);
    await runInProcess(["keys", "revoke", short.secret.slice(0, 7), ...storageArgs]);
    await runInProcess(["keys", "revoke", byId.id.slice(0, 8), ...storageArgs]);
    expect(process.exitCode).toBeUndefined();
    expect(await keyStates()).toEqual({
      full: "revoked",
      short: "revoked",
      "by-id": "revoked",
      bystander: "active",
    });
  });

  it("refuses an ambiguous prefix (exit 2), naming the candidates by id and prefix, never by key", async () => {
    const db = await storage.open();
    const secrets = [
      "oc_Shared1_first-key-secret-abcdefghijklmnop",
      "oc_Shared2_second-key-secret-abcdefghijklmno",
    ];
    const ids: string[] = [];
    try {
      const service = new ApiKeyService(db.keys);
      for (const [i, secret] of secrets.entries()) ids.push((await service.create(`k${i}`, secret)).row.id);
    } finally {
      await db.close();
    }
    const refused = await runInProcess(["keys", "revoke", "oc_Shared", ...storageArgs]);
    expect(process.exitCode).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^That matches 2 active keys; nothing was revoked\./);
    for (const id of ids) expect(refused.stderr).toContain(id);
    expect(refused.stderr).toContain("oc_Shared1…");
    expect(refused.stderr).toContain("oc_Shared2…");
    for (const secret of secrets) expect(refused.stderr).not.toContain(secret.slice(11));
    expect(await keyStates()).toEqual({ k0: "active", k1: "active" });

    // One more character picks one.
    process.exitCode = undefined;
    await runInProcess(["keys", "revoke", "oc_Shared2", ...storageArgs]);
    expect(process.exitCode).toBeUndefined();
    expect(await keyStates()).toEqual({ k0: "active", k1: "revoked" });
  });

  it("refuses a reference too short to name a key on purpose (exit 2), even when one key exists", async () => {
    await createKey("only");
    const refused = await runInProcess(["keys", "revoke", "oc_", ...storageArgs]);
    expect(process.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^Too short to pick a key: .*at least 6 characters/);
    expect(await keyStates()).toEqual({ only: "active" });
  });

  it("says what it did for no match (exit 1) and for a key already revoked (exit 0)", async () => {
    const key = await createKey("once");
    const missing = await runInProcess(["keys", "revoke", "oc_NoSuchKey", ...storageArgs]);
    expect(process.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /^No key matches\. Give its id, its prefix or the full key\. See `npx openconvai keys list --data \S+/,
    );
    process.exitCode = undefined;
    await runInProcess(["keys", "revoke", key.id, ...storageArgs]);
    const again = await runInProcess(["keys", "revoke", key.shown, ...storageArgs]);
    expect(process.exitCode).toBeUndefined();
    expect(again.stderr).toBe(`Already revoked, nothing to do:\n  ${key.id}\t${key.shown}\tonce\n`);
  });
});
