/**
 * The benchmark: loads N generated conversations through `openconvai import`, then measures
 * each scenario with autocannon against a running server, next to the ceiling (a bare
 * node:http server answering a precomputed body of the same size as GET details) measured in
 * the same run; the import rows (bench/import-rows.ts: into an empty database, and 20,000 new
 * conversations into the loaded one); and semantic search on a server of its own over seeded
 * vectors (bench/semantic-scenario.ts), with recall@10 against exact search. Each row is reported
 * against its target on the run's backend. Results are appended to bench/RESULTS.md and written
 * as JSON. Then the live
 * scenario (bench/live-sessions.ts): concurrent text sessions over the agent WebSocket; and the
 * voice scenario (bench/voice-sessions.ts): concurrent voice sessions streaming audio in real time;
 * and the console scenario (bench/console-load.ts): the first page's time to interactive.
 *
 *   npm run bench -- [--scale 10k|100k|1m | --count N] [--backend sqlite|postgres] [--quick] [--scaling]
 *                    [--seconds S] [--reuse] [--vectors V] [--semantic-index ann|exact] [--semantic-timeout MIN]
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
import {
  IMPORT_INTO_EMPTY_MAX,
  type ImportRow,
  importFile,
  importIntoEmpty,
  importIntoLoaded,
  schemaUrl,
} from "./import-rows.js";
import { renderLiveMarkdown } from "./live-report.js";
import { runLiveScenario } from "./live-sessions.js";
import { measureCeiling, runScenarios, type ScenarioResult } from "./scenarios.js";
import { runSemanticScenario, type SemanticResult } from "./semantic-scenario.js";
import { startServerProcess } from "./server-process.js";
import { renderVoiceMarkdown } from "./voice-report.js";
import { runVoiceScenario } from "./voice-sessions.js";

const SQLITE_FILE_PREFIX = "openconvai.sqlite";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "bench", "out");

const { values: args } = parseArgs({
  options: {
    count: { type: "string" },
    scale: { type: "string" },
    vectors: { type: "string" },
    "semantic-index": { type: "string", default: "ann" },
    "semantic-timeout": { type: "string", default: "15" },
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

/** The sizes `--scale` names. */
const SCALES: Record<string, number> = { "10k": 10_000, "100k": 100_000, "1m": 1_000_000 };
if (args.backend !== "sqlite" && args.backend !== "postgres")
  throw new Error(`--backend must be "sqlite" or "postgres", got "${args.backend}"`);
if (args.scale !== undefined && SCALES[args.scale.toLowerCase()] === undefined)
  throw new Error(`--scale must be 10k, 100k or 1m, got "${args.scale}"`);
const semanticIndex = args["semantic-index"];
if (semanticIndex !== "ann" && semanticIndex !== "exact")
  throw new Error(`--semantic-index must be "ann" or "exact", got "${semanticIndex}"`);
const backend: "sqlite" | "postgres" = args.backend;
const seed = Number(args.seed);
const seconds = Number(args.seconds ?? (args.quick ? 3 : 10));
const counts = args.scaling
  ? [10_000, 100_000, 1_000_000]
  : [
      Number(
        args.count ??
          (args.scale !== undefined ? SCALES[args.scale.toLowerCase()] : args.quick ? 10_000 : 100_000),
      ),
    ];

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
  return {
    url: schemaUrl(args["database-url"] as string, schema),
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
  /** The rate of the main load (the whole file), NaN when the data was reused. */
  importRate: number;
  /** "import into empty" and "import into N". */
  importRows: ImportRow[];
  bytesPerConversation: number;
  peakRssMb: number;
  ceilingRps: number;
  scenarios: ScenarioResult[];
  semantic: SemanticResult;
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
  const importRows: ImportRow[] = [];
  if (args.reuse && existsSync(dataDir)) {
    process.stderr.write(`reusing the ${count} conversations loaded before (no import measured)…\n`);
  } else {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    process.stderr.write(`importing ${count} conversations into ${backend}…\n`);
    const importSeconds = importFile(root, file, dataDir, pgSchema?.url);
    importRate = count / importSeconds;
    // Up to 100k, the main load is the "import into empty" measurement.
    if (count <= IMPORT_INTO_EMPTY_MAX)
      importRows.push({
        name: "import into empty",
        conversations: count,
        seconds: importSeconds,
        rate: importRate,
      });
  }
  if (importRows.length === 0) {
    const emptyCount = Math.min(count, IMPORT_INTO_EMPTY_MAX);
    importRows.push(
      await importIntoEmpty({
        root,
        outDir,
        file: await generateFile(emptyCount),
        count: emptyCount,
        backend,
        adminUrl: args["database-url"] as string,
      }),
    );
  }
  // Before the server starts: an import beside a running server would share its CPU.
  importRows.push(await importIntoLoaded({ root, outDir, seed, count, dataDir, databaseUrl: pgSchema?.url }));
  for (const row of importRows)
    process.stderr.write(`${row.name}: ${Math.round(row.rate)} conversations/s (${row.conversations})\n`);
  const diskBytes = pgSchema ? await pgSchema.bytes() : directoryBytes(dataDir);
  process.stderr.write(
    `${Number.isNaN(importRate) ? "data reused" : `loaded at ${Math.round(importRate)}/s`}; ${Math.round(diskBytes / count)} bytes per conversation\n`,
  );
  if (backend === "sqlite" && args.cache === "warm") {
    process.stderr.write("warming the page cache with the database…\n");
    await warmCache(file, dataDir);
  }

  const server = await startServerProcess({ root, dataDir, databaseUrl: pgSchema?.url });
  let scenarios: ScenarioResult[];
  let peakRssMb: number;
  let ceiling: { rps: number };
  try {
    scenarios = await runScenarios({ server, count, seed, seconds });
    const detailBytes = scenarios.find((s) => s.name === "GET details")?.bodyBytes ?? 10_000;
    ceiling = await measureCeiling({ bodyBytes: detailBytes, seconds });
    for (const s of scenarios) s.ceilingRatio = s.rps / ceiling.rps;
    peakRssMb = server.peakRssMb();
  } finally {
    await server.stop();
  }
  // Semantic search on a server of its own (on SQLite only one server may hold the database).
  const semantic = await runSemanticScenario({
    root,
    dataDir,
    databaseUrl: pgSchema?.url,
    seed,
    // At least 10 s: a slow search path must complete enough requests for a p99.
    seconds: Math.max(seconds, 10),
    vectors: Number(args.vectors ?? Math.min(count, 1_000_000)),
    index: semanticIndex as "ann" | "exact",
    timeoutMinutes: Number(args["semantic-timeout"]),
  });
  semantic.scenario.ceilingRatio = semantic.scenario.rps / ceiling.rps;
  return {
    count,
    backend,
    importRate,
    importRows,
    bytesPerConversation: diskBytes / count,
    peakRssMb,
    ceilingRps: ceiling.rps,
    scenarios,
    semantic,
  };
}

/** The targets (defined at 1M conversations), per backend. */
const TARGETS = {
  sqlite: {
    details: 0.5,
    list: 10,
    search: 50,
    textSearch: 50,
    semantic: 100,
    recall: 0.95,
    import: 5000,
    rss: 300,
  },
  postgres: {
    details: 0.3,
    list: 15,
    search: 100,
    textSearch: 100,
    semantic: 150,
    recall: 0.95,
    import: 3000,
    rss: 300,
  },
} as const;
type Targets = (typeof TARGETS)[keyof typeof TARGETS];

/** The p99 target a scenario row is held to, if any. */
function p99Target(name: string, t: Targets): number | undefined {
  if (name.startsWith("list ")) return t.list;
  if (name.startsWith("search ") && !name.includes("hostile")) return t.search;
  if (name.startsWith("message text search")) return t.textSearch;
  if (name.startsWith("semantic search")) return t.semantic;
  return undefined;
}

/** One row of the targets table: what was measured, both backends' targets, this backend's verdict. */
interface TargetRow {
  name: string;
  measured: string;
  sqlite: string;
  postgres: string;
  /** Undefined when not measured in this run. */
  met: boolean | undefined;
}

function targetRows(r: RunResult): TargetRow[] {
  const t = TARGETS[r.backend as "sqlite" | "postgres"];
  const get = (name: string) => r.scenarios.find((s) => s.name === name);
  const p99s = (rows: ScenarioResult[]) => rows.map((s) => `${s.name} ${s.p99} ms`).join(", ");
  const worst = (rows: ScenarioResult[]) => Math.max(...rows.map((s) => s.p99));
  const details = get("GET details");
  const lists = r.scenarios.filter((s) => s.name.startsWith("list "));
  const searches = r.scenarios.filter(
    (s) => s.name === "search rare word" || s.name === "search common word",
  );
  const texts = r.scenarios.filter((s) => s.name.startsWith("message text search"));
  const sem = r.semantic;
  const importRow = (name: string, label: string): TargetRow => {
    const row = r.importRows.find((x) => x.name === name);
    return {
      name: label,
      measured: row
        ? `${Math.round(row.rate).toLocaleString("en")}/s (${row.conversations.toLocaleString("en")} in ${row.seconds.toFixed(1)} s${row.note ? `; ${row.note}` : ""})`
        : "not measured",
      sqlite: `≥ ${TARGETS.sqlite.import.toLocaleString("en")}/s`,
      postgres: `≥ ${TARGETS.postgres.import.toLocaleString("en")}/s`,
      met: row ? row.rate >= t.import : undefined,
    };
  };
  return [
    {
      name: "GET details × ceiling",
      measured: `${(details?.ceilingRatio ?? 0).toFixed(2)}×`,
      sqlite: `≥ ${TARGETS.sqlite.details}×`,
      postgres: `≥ ${TARGETS.postgres.details}×`,
      met: (details?.ceilingRatio ?? 0) >= t.details,
    },
    {
      name: "list page p99",
      measured: p99s(lists),
      sqlite: `≤ ${TARGETS.sqlite.list} ms`,
      postgres: `≤ ${TARGETS.postgres.list} ms`,
      met: worst(lists) <= t.list,
    },
    {
      name: "list search p99",
      measured: p99s(searches),
      sqlite: `≤ ${TARGETS.sqlite.search} ms`,
      postgres: `≤ ${TARGETS.postgres.search} ms`,
      met: worst(searches) <= t.search,
    },
    {
      name: "message text search (ranked) p99",
      measured: p99s(texts),
      sqlite: `≤ ${TARGETS.sqlite.textSearch} ms`,
      postgres: `≤ ${TARGETS.postgres.textSearch} ms`,
      met: worst(texts) <= t.textSearch,
    },
    {
      name: "semantic search p99, recall@10",
      measured: `${sem.scenario.p99} ms (${sem.index}), recall ${sem.recall.toFixed(3)}`,
      sqlite: `≤ ${TARGETS.sqlite.semantic} ms, ≥ ${TARGETS.sqlite.recall}`,
      postgres: `≤ ${TARGETS.postgres.semantic} ms, ≥ ${TARGETS.postgres.recall}`,
      met: sem.scenario.p99 <= t.semantic && sem.recall >= t.recall,
    },
    importRow("import into empty", "import into empty, conversations/s"),
    importRow("import into N", `import into ${r.count.toLocaleString("en")}, conversations/s`),
    {
      name: "peak RSS while serving",
      measured: `${Math.round(r.peakRssMb)} MB (semantic server ${Math.round(sem.peakRssMb)} MB)`,
      sqlite: `≤ ${TARGETS.sqlite.rss} MB`,
      postgres: `≤ ${TARGETS.postgres.rss} MB`,
      met: r.peakRssMb <= t.rss && sem.peakRssMb <= t.rss,
    },
  ];
}

/** A scenario row of the table, with the p99 target it is held to on this backend. */
function scenarioLine(s: ScenarioResult, t: Targets): string {
  const target = p99Target(s.name, t);
  const ratio = s.ceilingRatio ?? 0;
  const verdict =
    s.name === "GET details"
      ? `≥ ${t.details}× ceiling: ${ratio >= t.details ? "met" : "**missed**"}`
      : target === undefined
        ? ""
        : `p99 ≤ ${target} ms: ${s.p99 <= target ? "met" : "**missed**"}`;
  return `| ${s.name} | ${Math.round(s.rps).toLocaleString("en")} | ${(s.ceilingRatio ?? 0).toFixed(2)} | ${s.p50} | ${s.p99} | ${s.p999} | ${s.peakRssAfterMb === undefined ? "-" : Math.round(s.peakRssAfterMb)} | ${s.verified} | ${verdict} |`;
}

function renderMarkdown(results: RunResult[], meta: Record<string, string>): string {
  const lines: string[] = [];
  lines.push(
    `## ${meta.date} — ${meta.backend}, ${results.map((r) => r.count.toLocaleString("en")).join(" / ")} conversations`,
  );
  lines.push("");
  lines.push(
    `commit ${meta.commit} · backend ${meta.backend} · scale ${meta.scale} · Node ${meta.node} · ${meta.cpu} · ${meta.cores} cores · ${meta.ram} RAM${meta.note ? ` · ${meta.note}` : ""}`,
  );
  for (const r of results) {
    const t = TARGETS[r.backend as "sqlite" | "postgres"];
    const sem = r.semantic;
    lines.push("");
    lines.push(
      `**${r.count.toLocaleString("en")} conversations** — load of the file ${Number.isNaN(r.importRate) ? "not measured (data reused)" : `${Math.round(r.importRate).toLocaleString("en")}/s`} · ` +
        `${Math.round(r.bytesPerConversation).toLocaleString("en")} bytes on disk per conversation · ` +
        `peak RSS ${Math.round(r.peakRssMb)} MB · ceiling ${Math.round(r.ceilingRps).toLocaleString("en")} req/s · ` +
        `semantic: ${sem.vectors.toLocaleString("en")} vectors (${sem.seededNow.toLocaleString("en")} seeded now in ${sem.seedSeconds.toFixed(1)} s), ` +
        `${sem.index} index${sem.index === "ann" ? ` built in ${sem.buildSeconds.toFixed(1)} s` : ""}, recall@10 ${sem.recall.toFixed(3)} over ${sem.recallQueries} queries, ` +
        `semantic server peak RSS ${Math.round(sem.peakRssMb)} MB${sem.indexerBatches > 0 ? `, **${sem.indexerBatches} indexer batches refused** (the indexer was not off)` : ""}`,
    );
    lines.push("");
    lines.push(
      `| scenario | req/s | × ceiling | p50 ms | p99 ms | p99.9 ms | peak RSS after, MB | checked | target (${r.backend}) |`,
    );
    lines.push("|---|---:|---:|---:|---:|---:|---:|---|---|");
    for (const s of [...r.scenarios, sem.scenario]) lines.push(scenarioLine(s, t));
    lines.push("");
    const scope =
      r.count >= 1_000_000 ? "Targets (at 1M)" : "Targets (defined at 1M; shown for reference at this size)";
    lines.push(`| ${scope} | measured | SQLite | PostgreSQL | ${r.backend} |`);
    lines.push("|---|---|---|---|---|");
    for (const row of targetRows(r)) {
      const verdict = row.met === undefined ? "not measured" : row.met ? "met" : "**missed**";
      lines.push(`| ${row.name} | ${row.measured} | ${row.sqlite} | ${row.postgres} | ${verdict} |`);
    }
  }
  if (results.length > 1) {
    lines.push("");
    lines.push("Scaling (p99 ms by size):");
    lines.push("");
    lines.push(`| scenario | ${results.map((r) => r.count.toLocaleString("en")).join(" | ")} |`);
    lines.push(`|---|${results.map(() => "---:").join("|")}|`);
    const rowsOf = (r: RunResult) => [...r.scenarios, { ...r.semantic.scenario, name: "semantic search" }];
    for (const s of rowsOf(results[0] as RunResult)) {
      lines.push(
        `| ${s.name} | ${results.map((r) => rowsOf(r).find((x) => x.name === s.name)?.p99 ?? "-").join(" | ")} |`,
      );
    }
    lines.push(
      `| import into empty (conversations/s) | ${results.map((r) => Math.round(r.importRows.find((x) => x.name === "import into empty")?.rate ?? 0)).join(" | ")} |`,
    );
    lines.push(
      `| import into N (conversations/s) | ${results.map((r) => Math.round(r.importRows.find((x) => x.name === "import into N")?.rate ?? 0)).join(" | ")} |`,
    );
  }
  return `${lines.join("\n")}\n\n`;
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
  // The console scenario runs last and needs Chromium: when it cannot run, what was measured
  // before it is still written down, and the run fails after.
  let consoleFailure: unknown;
  const consoleLoad = !runs("console")
    ? undefined
    : await runConsoleScenario({ root, runs: args.quick ? 5 : 20 }).catch((error: unknown) => {
        consoleFailure = error;
        return undefined;
      });
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit: commit(),
    backend,
    node: process.version,
    cpu,
    cores: String(os.cpus().length),
    ram: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
    scale: counts.map((c) => (c >= 1_000_000 ? `${c / 1_000_000}m` : `${c / 1000}k`)).join(", "),
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
  if (consoleFailure !== undefined) {
    const reason = consoleFailure instanceof Error ? consoleFailure.message : String(consoleFailure);
    process.stderr.write(
      `the console scenario did not run: ${reason}\nInstall Chromium (apt-get install chromium) and run it alone: npm run bench -- --only console\n`,
    );
    process.exitCode = 1;
  }
}

await main();
