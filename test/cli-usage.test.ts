import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "./support/run-cli.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }
).version;
const COMMANDS = ["serve", "import", "export", "sync", "seed", "keys", "webhooks"];

/**
 * Runs `openconvai` with no arguments, killed after `timeoutMs` if it is still running (a bare call
 * that started a server would never exit on its own). Its data directory is a scratch one.
 */
function runBare(dataDir: string, timeoutMs: number): Promise<CliResult & { killed: boolean }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENCONVAI_DATA: dataDir, OPENCONVAI_PORT: "0" };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts"], { cwd: REPO, env });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

describe("openconvai as a command line", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "openconvai-usage-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("prints the version from package.json with --version and -v", async () => {
    for (const flag of ["--version", "-v"]) {
      const result = await runCli([flag]);
      expect(result).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: "" });
    }
  });

  it("refuses an unknown command as one (exit 2) and lists the commands", async () => {
    const result = await runCli(["bogus"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: unknown command 'bogus'\n/);
    expect(result.stderr).not.toMatch(/too many arguments/);
    for (const name of COMMANDS) expect(result.stderr).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it("suggests the command a typo was probably meant to be", async () => {
    const result = await runCli(["serv"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown command 'serv'\n\(Did you mean serve\?\)/);
  });

  it("refuses an unknown option as a usage error (exit 2)", async () => {
    const result = await runCli(["keys", "list", "--bogus"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown option '--bogus'/);
  });

  it("prints the help for a bare call and exits, rather than starting a server", async () => {
    const result = await runBare(dataDir, 20_000);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^Usage: openconvai \[options\] \[command\]\n/);
    for (const name of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(result.stdout).toContain("`openconvai serve`");
    expect(result.stdout).toContain("`npx openconvai <command>`");
    expect(result.stdout).toContain("`npm link`");
  });
});
