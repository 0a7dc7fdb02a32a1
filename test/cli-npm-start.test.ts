import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BUILD_STAMP, findStaleBuildReason, writeBuildStamp } from "../scripts/build.mjs";
import { serveArguments } from "../scripts/start.mjs";
import { buildProgram } from "../src/cli/program.js";

const BUILT_AT_MS = Date.parse("2026-01-01T12:00:00Z");

/** Sets a file's or folder's mtime, `offsetMs` after the build. */
function touch(file: string, offsetMs: number): void {
  const seconds = (BUILT_AT_MS + offsetMs) / 1000;
  utimesSync(file, seconds, seconds);
}

describe("npm start rebuilds only a stale build", () => {
  let root: string;
  const at = (...parts: string[]) => path.join(root, ...parts);

  /** A project built at BUILT_AT_MS: every source and config older than its stamp. */
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "openconvai-start-"));
    mkdirSync(at("src", "cli"), { recursive: true });
    mkdirSync(at("dist", "cli"), { recursive: true });
    const files = [
      "tsconfig.json",
      "tsconfig.build.json",
      "src/main.ts",
      "src/cli/bin.ts",
      "src/cli/bin.test.ts",
    ];
    for (const file of files) writeFileSync(at(file), "\n");
    writeFileSync(at("dist", "cli", "bin.js"), "\n");
    for (const entry of [...files, "src/cli", "src"]) touch(at(entry), -60_000);
    writeBuildStamp(root, BUILT_AT_MS);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("starts at once when nothing changed since the build", () => {
    expect(findStaleBuildReason(root)).toBeUndefined();
  });

  it("builds when there is no stamp yet (a clone built before stamps, or a failed build)", () => {
    rmSync(at(BUILD_STAMP));
    expect(findStaleBuildReason(root)).toBe("no build stamp yet");
  });

  it("builds when the bin is missing", () => {
    rmSync(at("dist", "cli", "bin.js"));
    expect(findStaleBuildReason(root)).toMatch(/bin\.js is missing/);
  });

  it("builds when a source file, however deep, is newer than the stamp", () => {
    touch(at("src", "cli", "bin.ts"), 1_000);
    expect(findStaleBuildReason(root)).toBe(`${path.join("src", "cli", "bin.ts")} changed`);
  });

  it("builds when a tsconfig is newer than the stamp", () => {
    touch(at("tsconfig.build.json"), 1_000);
    expect(findStaleBuildReason(root)).toBe("tsconfig.build.json changed");
  });

  it("builds when a file was deleted or added (its folder's mtime moves)", () => {
    rmSync(at("src", "main.ts"));
    touch(at("src"), 1_000);
    expect(findStaleBuildReason(root)).toBe("src changed");
  });

  it("counts an edit made while the build ran: the stamp keeps the time the build began", () => {
    touch(at("src", "main.ts"), 1);
    expect(findStaleBuildReason(root)).toBe(`${path.join("src", "main.ts")} changed`);
  });

  it("ignores edits to unit tests beside the code, which the build does not compile", () => {
    touch(at("src", "cli", "bin.test.ts"), 1_000);
    expect(findStaleBuildReason(root)).toBeUndefined();
  });

  it("builds when the console's source changed, or its build is missing", () => {
    mkdirSync(at("console", "src"), { recursive: true });
    mkdirSync(at("dist", "console"), { recursive: true });
    writeFileSync(at("console", "index.html"), "\n");
    writeFileSync(at("console", "src", "app.tsx"), "\n");
    writeFileSync(at("dist", "console", "index.html"), "\n");
    for (const entry of ["console/index.html", "console/src/app.tsx", "console/src", "console"]) {
      touch(at(entry), -60_000);
    }
    expect(findStaleBuildReason(root)).toBeUndefined();
    touch(at("console", "src", "app.tsx"), 60_000);
    expect(findStaleBuildReason(root)).toBe(`${path.join("console", "src", "app.tsx")} changed`);
    touch(at("console", "src", "app.tsx"), -60_000);
    rmSync(at("dist", "console", "index.html"));
    expect(findStaleBuildReason(root)).toBe(`${path.join("dist", "console")} is missing`);
  });

  it("has nothing to build in an installed package (no src/)", () => {
    rmSync(at("src"), { recursive: true });
    rmSync(at(BUILD_STAMP));
    expect(findStaleBuildReason(root)).toBeUndefined();
  });
});

/** The options `openconvai serve` receives for argv, with its action replaced so nothing listens. */
async function parseServe(argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  const serve = program.commands.find((c) => c.name() === "serve") as Command;
  let received: Record<string, unknown> = {};
  serve.action((flags: Record<string, unknown>) => {
    received = flags;
  });
  await program.parseAsync(argv, { from: "user" });
  return received;
}

describe("npm start passes serve options on", () => {
  it("`npm start -- --port 8797` serves on that port", async () => {
    const parsed = serveArguments(["--port", "8797"], {});
    expect(parsed).toEqual({ args: ["serve", "--port", "8797"] });
    expect((await parseServe(parsed.args ?? [])).port).toBe("8797");
  });

  it("`npm start --port 8797` (npm keeps the flag, passes 8797 on) still serves on that port", async () => {
    const parsed = serveArguments(["8797"], { npm_config_port: "true" });
    expect((await parseServe(parsed.args ?? [])).port).toBe("8797");
  });

  it("`npm start --port=8797 --host=0.0.0.0` (npm keeps both) still passes both", async () => {
    const parsed = serveArguments([], { npm_config_port: "8797", npm_config_host: "0.0.0.0" });
    const flags = await parseServe(parsed.args ?? []);
    expect([flags.port, flags.host]).toEqual(["8797", "0.0.0.0"]);
  });

  it("lets what follows `--` win over what npm kept", () => {
    expect(serveArguments(["--port=9000"], { npm_config_port: "8797" })).toEqual({
      args: ["serve", "--port=9000"],
    });
  });

  it("says how to pass an option whose value npm swallowed", () => {
    const parsed = serveArguments(["./elsewhere"], { npm_config_data: "true" });
    expect(parsed.error).toBe("npm kept --data for itself. Pass it after `--`: npm start -- --data <value>");
  });
});
