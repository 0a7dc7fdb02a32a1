import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { ConfigError } from "../src/config/config-error.js";
import { createLogger, type LogOutput } from "../src/main.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A stream that keeps what is written, claiming to be a terminal or not. */
function captureStream(isTTY: boolean): LogOutput & { text(): string } {
  let text = "";
  return {
    isTTY,
    write(chunk: string | Uint8Array) {
      text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
      return true;
    },
    text: () => text,
  } as unknown as LogOutput & { text(): string };
}

/** Logs one line through the logger createLogger builds for this format and stream. */
function logOnce(format: string | undefined, isTTY: boolean): string {
  const out = captureStream(isTTY);
  const env = format === undefined ? {} : { OPENCONVAI_LOG_FORMAT: format };
  const logger = createLogger(resolveConfig({}, env), out);
  logger.info({ request_id: "r1" }, "server started");
  logger.flush();
  return out.text();
}

/** Whether every line of `text` is a JSON object. */
function isJsonLines(text: string): boolean {
  const lines = text.trimEnd().split("\n");
  return (
    lines.length > 0 &&
    lines.every((line) => {
      try {
        return typeof JSON.parse(line) === "object";
      } catch {
        return false;
      }
    })
  );
}

describe("the server's log lines", () => {
  it("are readable on a terminal: level, message, fields, no JSON", () => {
    const text = logOnce(undefined, true);
    expect(isJsonLines(text)).toBe(false);
    expect(text).toMatch(/INFO/);
    expect(text).toContain("server started");
    expect(text).toContain("r1");
  });

  it("are JSON, one object a line, when the output is not a terminal (a file, a pipe, a log collector)", () => {
    const text = logOnce(undefined, false);
    expect(isJsonLines(text)).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ level: 30, msg: "server started", request_id: "r1" });
  });

  it("OPENCONVAI_LOG_FORMAT=json forces JSON on a terminal", () => {
    expect(isJsonLines(logOnce("json", true))).toBe(true);
  });

  it("OPENCONVAI_LOG_FORMAT=pretty forces readable lines into a pipe (no colours there)", () => {
    const text = logOnce("pretty", false);
    expect(isJsonLines(text)).toBe(false);
    expect(text).toContain("server started");
    expect(text).not.toContain("\u001b[");
  });

  it("an unknown OPENCONVAI_LOG_FORMAT names the setting and the values it takes", () => {
    expect(() => resolveConfig({}, { OPENCONVAI_LOG_FORMAT: "yaml" })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { OPENCONVAI_LOG_FORMAT: "yaml" })).toThrow(/auto, json, pretty/);
  });
});

describe("a test run without PostgreSQL", () => {
  it("says once per run, not once per file, that the PostgreSQL suites do not run, pointing at a file that exists", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.OPENCONVAI_TEST_POSTGRES_URL;
    delete env.OPENCONVAI_TEST_QUIET;
    const stderr = await new Promise<string>((resolve, reject) => {
      // Two files that use the backends, run with the project's vitest configuration.
      const child = spawn(
        process.execPath,
        [
          "node_modules/vitest/vitest.mjs",
          "run",
          "--config",
          "test/fixtures/postgres-note/vitest.config.ts",
          "--pool",
          "forks",
          "--no-color",
        ],
        { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`vitest exited ${code}:\n${out}`)),
      );
    });
    expect(stderr).toContain("2 passed");
    const notes = stderr
      .split("\n")
      .filter((line) => line.includes("OPENCONVAI_TEST_POSTGRES_URL is not set"));
    expect(notes).toHaveLength(1);
    const pointer = /\(see ([^,)]+)/.exec(notes[0] ?? "")?.[1];
    expect(pointer).toBeDefined();
    expect(existsSync(path.join(REPO, pointer ?? ""))).toBe(true);
  }, 60_000);
});
