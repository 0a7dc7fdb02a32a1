import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProgram } from "../src/cli/program.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const README = readFileSync(path.join(REPO, "README.md"), "utf8");
const DEFAULT_URL = "http://127.0.0.1:8787";

/** The fenced code blocks of the README, with their language tag. */
function codeBlocks(): { lang: string; body: string }[] {
  return [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? "",
    body: m[2] ?? "",
  }));
}

describe("the README's instructions work as written", () => {
  it("runs the command line in its shell examples as `npx openconvai`, which works inside the clone", () => {
    const shell = codeBlocks().filter((b) => b.lang === "sh");
    expect(shell.length).toBeGreaterThan(0);
    for (const block of shell) {
      for (const line of block.body.split("\n")) {
        for (const m of line.matchAll(/\bopenconvai (?=[a-z-])/g)) {
          expect(line.slice(0, m.index).endsWith("npx "), line).toBe(true);
        }
      }
    }
  });

  it("says how to get `openconvai` on the PATH", () => {
    expect(README).toMatch(/`npm link`/);
  });

  it("passes server options to `npm start` after `--` (npm keeps them otherwise)", () => {
    expect(README).toContain("npm start -- --port ");
    expect(README).not.toMatch(/npm start --[a-z]/);
  });

  it("exports KEY before the first example that reads it", () => {
    const exported = README.indexOf("export KEY=");
    expect(exported).toBeGreaterThan(-1);
    for (const use of ["$KEY", "process.env.KEY"]) {
      expect(README.indexOf(use), use).toBeGreaterThan(exported);
    }
  });
});

describe("the README's examples against a fresh server", () => {
  let server: TestServer;
  const scratch = path.join(REPO, "node_modules", ".cache", `openconvai-readme-${process.pid}`);

  beforeAll(async () => {
    server = await startTestServer("sqlite");
    // Inside the project, so that the example's import finds the SDK in node_modules.
    mkdirSync(scratch, { recursive: true });
  });

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await server?.stop();
  });

  it("mentions /healthz, which answers without a key", async () => {
    expect(README).toContain(`${DEFAULT_URL}/healthz`);
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("names the SDK example as an .mjs file, and it runs as pasted, before and after `seed --demo`", async () => {
    const block = codeBlocks().find((b) => b.body.includes("new ElevenLabsClient"));
    const fileName = /^\/\/ (\S+\.mjs)\n/.exec(block?.body ?? "")?.[1];
    expect(fileName, "the example's first line names its .mjs file").toBeDefined();
    expect(README).toContain(`node ${fileName}`);
    // Only the address differs: this server listens on a free port, not the default one.
    expect(block?.body).toContain(DEFAULT_URL);
    const file = path.join(scratch, fileName as string);
    writeFileSync(file, (block?.body ?? "").replaceAll(DEFAULT_URL, server.url));
    const runExample = () =>
      promisify(execFile)(process.execPath, [file], {
        env: { PATH: process.env.PATH, KEY: server.apiKey },
        timeout: 30_000,
      });

    const fresh = await runExample();
    expect(fresh.stderr).toBe("");
    expect(fresh.stdout).toContain("No conversations yet");

    // Into this server's SQLite, whatever DATABASE_URL the environment names.
    const databaseUrl = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await runProgram(["seed", "--demo", "--data", server.storage.dataDir]);
    } finally {
      if (databaseUrl !== undefined) process.env.DATABASE_URL = databaseUrl;
    }
    const seeded = await runExample();
    expect(seeded.stderr).toBe("");
    expect(seeded.stdout).toMatch(/^\d+ messages in \S+$/m);
  });
});
