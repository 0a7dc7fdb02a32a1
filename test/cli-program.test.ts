import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
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
    ]);
  });

  it("creates, lists and revokes a key", async () => {
    const empty = await runInProcess(["keys", "list", ...storageArgs]);
    expect(empty).toEqual({
      stdout: "",
      stderr: "No keys yet. Create one with `openconvai keys create`.\n",
    });

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
      stderr: "Revoked 1 key(s). Running servers stop accepting it within 5 seconds.\n",
    });
    expect(process.exitCode).toBeUndefined();
    const after = await runInProcess(["keys", "list", ...storageArgs]);
    expect(after.stdout).toMatch(/\trevoked \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
  });
});
