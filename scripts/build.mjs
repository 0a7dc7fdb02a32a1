#!/usr/bin/env node
// `npm run build` (and `prepare`, on install): compiles src/ to dist/, builds the console (console/,
// with Vite) into dist/console/, makes the bin executable, and stamps the build so `npm start`
// (scripts/start.mjs) can tell whether it is current. Plain
// JavaScript, so it runs before anything is compiled and costs no loader at start-up.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The stamp a successful build leaves, relative to the project root; its mtime is when the build began. */
export const BUILD_STAMP = path.join("dist", ".build-stamp");

/** What the build reads besides src/: a change to either changes the output. */
const BUILD_CONFIG = ["tsconfig.json", "tsconfig.build.json"];

/** What the build writes that `npm start` runs. */
const BIN = path.join("dist", "cli", "bin.js");

/** The console's sources (besides src/, what a change to means a new build). */
const CONSOLE_SOURCE = "console";

/** Where the console is built to: what the server serves at `/`. */
export const CONSOLE_OUT = path.join("dist", "console");

/**
 * Why the build in `root` is out of date, or undefined when it is current: no stamp, no bin, or a
 * file or folder under src/ (unit tests aside) or a tsconfig newer than the stamp. A folder counts
 * because deleting or renaming a file changes only its folder's mtime. Without src/ (an installed
 * package) there is nothing to build.
 */
export function findStaleBuildReason(root) {
  const src = path.join(root, "src");
  if (!existsSync(src)) return undefined;
  const stamp = path.join(root, BUILD_STAMP);
  if (!existsSync(stamp)) return "no build stamp yet";
  if (!existsSync(path.join(root, BIN))) return `${BIN} is missing`;
  if (
    existsSync(path.join(root, CONSOLE_SOURCE)) &&
    !existsSync(path.join(root, CONSOLE_OUT, "index.html"))
  ) {
    return `${CONSOLE_OUT} is missing`;
  }
  const builtAt = statSync(stamp).mtimeMs;
  for (const file of BUILD_CONFIG) {
    const full = path.join(root, file);
    if (existsSync(full) && statSync(full).mtimeMs > builtAt) return `${file} changed`;
  }
  for (const dir of [src, path.join(root, CONSOLE_SOURCE)]) {
    if (!existsSync(dir)) continue;
    const newer = findNewerThan(dir, builtAt);
    if (newer !== undefined) return `${path.relative(root, newer)} changed`;
  }
  return undefined;
}

/** The first entry under `dir` (itself included) modified after `timeMs`, skipping unit tests. */
function findNewerThan(dir, timeMs) {
  if (statSync(dir).mtimeMs > timeMs) return dir;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findNewerThan(full, timeMs);
      if (found !== undefined) return found;
    } else if (!entry.name.endsWith(".test.ts") && statSync(full).mtimeMs > timeMs) {
      return full;
    }
  }
  return undefined;
}

/** Writes the build stamp with its mtime at `startedAtMs`, so an edit made during the build still counts. */
export function writeBuildStamp(root, startedAtMs) {
  const stamp = path.join(root, BUILD_STAMP);
  writeFileSync(stamp, `${new Date(startedAtMs).toISOString()}\n`);
  const seconds = startedAtMs / 1000;
  utimesSync(stamp, seconds, seconds);
}

/**
 * Builds the console (console/) with Vite into `outDir` (default dist/console); false if Vite
 * failed. Without console/ (an installed package, which ships it built) there is nothing to do.
 */
export function buildConsole(root, outDir = path.join(root, CONSOLE_OUT)) {
  if (!existsSync(path.join(root, CONSOLE_SOURCE, "index.html"))) return true;
  // The bin is not among the package's exports; it sits beside its package.json.
  const vite = path.join(
    path.dirname(createRequire(import.meta.url).resolve("vite/package.json")),
    "bin",
    "vite.js",
  );
  const config = path.join(root, CONSOLE_SOURCE, "vite.config.ts");
  const result = spawnSync(
    process.execPath,
    [vite, "build", "--config", config, "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"],
    { cwd: root, stdio: "inherit" },
  );
  return result.status === 0;
}

/**
 * Compiles `root` with tsc, builds the console, makes the bin executable and stamps the build;
 * false if either build failed.
 */
export function buildProject(root) {
  const startedAtMs = Date.now();
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) return false;
  if (!buildConsole(root)) return false;
  chmodSync(path.join(root, BIN), 0o755);
  writeBuildStamp(root, startedAtMs);
  return true;
}

/** The project this script belongs to. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (!buildProject(PROJECT_ROOT)) process.exit(1);
}
