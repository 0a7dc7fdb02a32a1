/**
 * The benchmark: loads N generated conversations through `openconvai import`, then measures
 * each scenario with autocannon against a running server, next to the ceiling (a bare
 * node:http server answering a precomputed body of the same size as GET details) measured in
 * the same run. Results are appended to bench/RESULTS.md and written as JSON. Then the live
 * scenario (bench/live-sessions.ts): concurrent text sessions over the agent WebSocket; and the
 * voice scenario (bench/voice-sessions.ts): concurrent voice sessions streaming audio in real time;
 * and the console scenario (bench/console-load.ts): the first page's time to interactive.
 *
 *   npm run bench -- [--count N] [--backend sqlite|postgres] [--quick] [--scaling] [--seconds S]
 *   npm run bench -- --only stored|live|voice|console [--sessions N] [--live-seconds S]
 *                    [--voice-sessions N] [--voice-seconds S]
 */
import { execFileSync } from "node:child_process";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { appendFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { renderConsoleMarkdown, runConsoleScenario } from "./console-load.js";
import { generateConversation } from "./generate-conversations.js";
import { renderLiveMarkdown } from "./live-report.js";
import { runLiveScenario } from "./live-sessions.js";
import { measureCeiling, runScenarios, type ScenarioResult } from "./scenarios.js";
import { startServerProcess } from "./server-process.js";
import { renderVoiceMarkdown } from "./voice-report.js";
import { runVoiceScenario } from "./voice-sessions.js";

const SQLITE_FILE_PREFIX = "openconvai.sqlite";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "bench", "out");

const { values: args } = parseArgs({
  options: {
    count: { type: "string" },
    backend: { type: "string", default: "sqlite" },
    quick: { type: "boolean", default: false },
    scaling: { type: "boolean", default: false },
    seconds: { type: "string" },
    seed: { type: "string", default: "42" },
    "database-url": {
      type: "string",
      default: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    },
    note: { type: "string" },
    cache: { type: "string", default: "warm" },
    reuse: { type: "boolean", default: false },
    only: { type: "string" },
    sessions: { type: "string" },
    "live-seconds": { type: "string" },
    "voice-sessions": { type: "string" },
    "voice-seconds": { type: "string" },
  },
});

if (args.only !== undefined && !["stored", "live", "voice", "console"].includes(args.only))
  throw new Error(`--only must be "stored", "live", "voice" or "console", got "${args.only}"`);
/** Whether a part of the benchmark runs (all of them without --only). */
const runs = (part: "stored" | "live" | "voice" | "console") => args.only === undefined || args.only === part;

const backend = args.backend === "postgres" ? "postgres" : "sqlite";
const seed = Number(args.seed);
const seconds = Number(args.seconds ?? (args.quick ? 3 : 10));
const counts = args.scaling
  ? [10_000, 100_000, 1_000_000]
  : [Number(args.count ?? (args.quick ? 10_000 : 100_000))];

/** Writes the NDJSON file for N conversations (cached across runs). */
async function generateFile(count: number): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `conversations-${seed}-${count}.ndjson`);
  if (existsSync(file)) return file;
  const temp = `${file}.tmp`;
  const out = createWriteStream(temp);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const line = `${JSON.stringify(generateConversation(i, seed))}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  execFileSync("mv", [temp, file]);
  process.stderr.write(
    `generated ${count} conversations in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return file;
}

/** Bytes under a directory (SQLite file, WAL and blobs). */
function directoryBytes(dir: string): number {
  const out = execFileSync("du", ["-sb", dir], { encoding: "utf8" });
  return Number(out.split("\t")[0]);
}

/** A fresh PostgreSQL schema for one run; returns the URL that selects it. */
async function freshPostgresSchema(
  count: number,
  reuse: boolean,
): Promise<{ url: string; bytes: () => Promise<number> }> {
  const schema = `bench_${count}`;
  const admin = new pg.Client({ connectionString: args["database-url"] });
  await admin.connect();
  if (!reuse) {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
  }
  await admin.end();
  const url = new URL(args["database-url"] as string);
  url.searchParams.set("options", `-c search_path=${schema},public`);
  return {
    url: url.toString(),
    bytes: async () => {
      const c = new pg.Client({ connectionString: args["database-url"] });
      await c.connect();
      const r = await c.query(
        "SELECT coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)), 0)::bigint AS n FROM pg_tables WHERE schemaname = $1",
        [schema],
      );
      await c.end();
      return Number(r.rows[0].n);
    },
  };
}

/** Loads the file through the real `openconvai import` command and returns the rate. */
function importFile(file: string, dataDir: string, databaseUrl: string | undefined): { seconds: number } {
  const started = performance.now();
  execFileSync(
    process.execPath,
    [path.join(root, "dist", "cli", "bin.js"), "import", file, "--data", dataDir],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    },
  );
  return { seconds: (performance.now() - started) / 1000 };
}

function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

interface RunResult {
  count: number;
  backend: string;
  importRate: number;
  bytesPerConversation: number;
  peakRssMb: number;
  ceilingRps: number;
  scenarios: ScenarioResult[];
}

/**
 * Makes the page cache look like a long-running server's: the NDJSON input (read once by the
 * import, and as large as the database) is dropped from it, and the database file is read once.
 */
async function warmCache(file: string, dataDir: string): Promise<void> {
  execFileSync("dd", [`if=${file}`, "iflag=nocache", "count=0", "status=none"]);
  for (const name of readdirSync(dataDir)) {
    if (!name.startsWith(SQLITE_FILE_PREFIX)) continue;
    for await (const _ of createReadStream(path.join(dataDir, name), { highWaterMark: 4 * 1024 * 1024 })) {
      // reading is the point
    }
  }
}

async function runAt(count: number): Promise<RunResult> {
  const file = await generateFile(count);
  const dataDir = path.join(outDir, `data-${backend}-${count}`);
  const pgSchema = backend === "postgres" ? await freshPostgresSchema(count, args.reuse) : undefined;
  let importRate = Number.NaN;
  if (args.reuse && existsSync(dataDir)) {
    process.stderr.write(`reusing the ${count} conversations loaded before (no import measured)…\n`);
  } else {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    process.stderr.write(`importing ${count} conversations into ${backend}…\n`);
    const { seconds: importSeconds } = importFile(file, dataDir, pgSchema?.url);
    importRate = count / importSeconds;
  }
  const diskBytes = pgSchema ? await pgSchema.bytes() : directoryBytes(dataDir);
  process.stderr.write(
    `imported at ${Math.round(importRate)}/s; ${Math.round(diskBytes / count)} bytes per conversation\n`,
  );
  if (backend === "sqlite" && args.cache === "warm") {
    process.stderr.write("warming the page cache with the database…\n");
    await warmCache(file, dataDir);
  }

  const server = await startServerProcess({ root, dataDir, databaseUrl: pgSchema?.url });
  try {
    const scenarios = await runScenarios({ server, count, seed, seconds });
    const detailBytes = scenarios.find((s) => s.name === "GET details")?.bodyBytes ?? 10_000;
    const ceiling = await measureCeiling({ bodyBytes: detailBytes, seconds });
    for (const s of scenarios) s.ceilingRatio = s.rps / ceiling.rps;
    const peakRssMb = server.peakRssMb();
    return {
      count,
      backend,
      importRate,
      bytesPerConversation: diskBytes / count,
      peakRssMb,
      ceilingRps: ceiling.rps,
      scenarios,
    };
  } finally {
    await server.stop();
  }
}

function renderMarkdown(results: RunResult[], meta: Record<string, string>): string {
  const lines: string[] = [];
  lines.push(
    `## ${meta.date} — ${meta.backend}, ${results.map((r) => r.count.toLocaleString("en")).join(" / ")} conversations`,
  );
  lines.push("");
  lines.push(
    `commit ${meta.commit} · Node ${meta.node} · ${meta.cpu} · ${meta.cores} cores${meta.note ? ` · ${meta.note}` : ""}`,
  );
  for (const r of results) {
    lines.push("");
    lines.push(
      `**${r.count.toLocaleString("en")} conversations** — import ${Number.isNaN(r.importRate) ? "not measured (data reused)" : `${Math.round(r.importRate).toLocaleString("en")}/s`} · ` +
        `${Math.round(r.bytesPerConversation).toLocaleString("en")} bytes on disk per conversation · ` +
        `peak RSS ${Math.round(r.peakRssMb)} MB · ceiling ${Math.round(r.ceilingRps).toLocaleString("en")} req/s`,
    );
    lines.push("");
    lines.push("| scenario | req/s | × ceiling | p50 ms | p99 ms | p99.9 ms | checked |");
    lines.push("|---|---:|---:|---:|---:|---:|---|");
    for (const s of r.scenarios) {
      lines.push(
        `| ${s.name} | ${Math.round(s.rps).toLocaleString("en")} | ${(s.ceilingRatio ?? 0).toFixed(2)} | ${s.p50} | ${s.p99} | ${s.p999} | ${s.verified} |`,
      );
    }
    lines.push("");
    lines.push(targetsLine(r));
  }
  if (results.length > 1) {
    lines.push("");
    lines.push("Scaling (p99 ms by size):");
    lines.push("");
    lines.push(`| scenario | ${results.map((r) => r.count.toLocaleString("en")).join(" | ")} |`);
    lines.push(`|---|${results.map(() => "---:").join("|")}|`);
    for (const s of results[0]?.scenarios ?? []) {
      lines.push(
        `| ${s.name} | ${results.map((r) => r.scenarios.find((x) => x.name === s.name)?.p99 ?? "-").join(" | ")} |`,
      );
    }
  }
  return `${lines.join("\n")}\n\n`;
}

/** Says plainly which targets the run meets (they are defined at 1M on SQLite). */
function targetsLine(r: RunResult): string {
  const get = (name: string) => r.scenarios.find((s) => s.name === name);
  const details = get("GET details");
  const lists = r.scenarios.filter((s) => s.name.startsWith("list"));
  const searches = r.scenarios.filter((s) => s.name.startsWith("search"));
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
  const checks = [
    `GET details ≥ 0.5× ceiling: ${verdict((details?.ceilingRatio ?? 0) >= 0.5)} (${(details?.ceilingRatio ?? 0).toFixed(2)}×)`,
    `list p99 ≤ 10 ms: ${verdict(lists.every((s) => s.p99 <= 10))} (worst ${Math.max(...lists.map((s) => s.p99))} ms)`,
    `search p99 ≤ 50 ms: ${verdict(searches.every((s) => s.p99 <= 50))} (worst ${Math.max(...searches.map((s) => s.p99))} ms)`,
    Number.isNaN(r.importRate)
      ? "import ≥ 5,000/s: not measured in this run"
      : `import ≥ 5,000/s: ${verdict(r.importRate >= 5000)} (${Math.round(r.importRate)}/s)`,
    `peak RSS ≤ 300 MB: ${verdict(r.peakRssMb <= 300)} (${Math.round(r.peakRssMb)} MB)`,
  ];
  const scope =
    r.count >= 1_000_000 && r.backend === "sqlite"
      ? "Targets"
      : "Targets (defined at 1M on SQLite; shown for reference)";
  return `${scope}: ${checks.join(" · ")}`;
}

async function main(): Promise<void> {
  process.stderr.write("building…\n");
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  const results: RunResult[] = [];
  if (runs("stored")) for (const count of counts) results.push(await runAt(count));
  const live = !runs("live")
    ? undefined
    : await runLiveScenario({
        root,
        outDir,
        sessions: Number(args.sessions ?? (args.quick ? 50 : 500)),
        seconds: Number(args["live-seconds"] ?? (args.quick ? 6 : 30)),
        intervalMs: 2000,
        setupConcurrency: 50,
        backend,
        databaseUrl: args["database-url"] as string,
      });
  const voice = !runs("voice")
    ? undefined
    : await runVoiceScenario({
        root,
        outDir,
        sessions: Number(args["voice-sessions"] ?? (args.quick ? 10 : 100)),
        seconds: Number(args["voice-seconds"] ?? (args.quick ? 10 : 30)),
        periodMs: 5000,
        setupConcurrency: 20,
        backend,
        databaseUrl: args["database-url"] as string,
      });
  const consoleLoad = !runs("console")
    ? undefined
    : await runConsoleScenario({ root, runs: args.quick ? 5 : 20 });
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: commit(),
    backend,
    node: process.version,
    cpu,
    cores: String(os.cpus().length),
    note: [
      args.note ?? (args.quick ? "quick" : ""),
      backend === "sqlite" && runs("stored") ? `page cache ${args.cache}` : "",
    ]
      .filter(Boolean)
      .join(" · "),
  };
  const markdown =
    (results.length > 0 ? renderMarkdown(results, meta) : "") +
    (live ? renderLiveMarkdown(live, meta) : "") +
    (voice ? renderVoiceMarkdown(voice, meta) : "") +
    (consoleLoad ? renderConsoleMarkdown(consoleLoad, meta) : "");
  process.stdout.write(markdown);
  const resultsFile = path.join(root, "bench", "RESULTS.md");
  if (!existsSync(resultsFile))
    writeFileSync(resultsFile, "# Benchmark results\n\nAppended by `npm run bench`.\n\n");
  await appendFile(resultsFile, markdown);
  mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, `results-${meta.date.replace(/[:]/g, "-")}.json`);
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ meta, results, live, voice, console: consoleLoad }, null, 2)}\n`,
  );
  writeFileSync(path.join(outDir, "latest.json"), readFileSync(jsonFile));
  process.stderr.write(
    `appended to bench/RESULTS.md; JSON in ${path.relative(root, jsonFile)} (${statSync(jsonFile).size} bytes)\n`,
  );
}

await main();
