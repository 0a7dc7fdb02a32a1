/**
 * The live scenario: many concurrent text sessions over the agent WebSocket, each sending a
 * message every interval, against openconvai (its own process) whose model is a local
 * OpenAI-compatible server that answers at once (bench/live-model-server.ts, its own process).
 * It measures sessions set up per second, the latency the server adds to a turn (message sent →
 * first agent_chat_response_part, less the model server's own time for that message), the
 * server's peak RSS and CPU, checks that every session completed (every message answered, the
 * conversation recorded `done` with its whole transcript), and runs the same load against a bare
 * `ws` echo server (bench/live-echo-server.ts) in the same run: the baseline.
 */
import { mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { type LiveLoadResult, runLiveLoad } from "./live-client.js";
import {
  cpuPressureSeconds,
  cpuSeconds,
  type LiveServer,
  logTrouble,
  machineBusySeconds,
  peakRssMb,
  rssMb,
  rssSampler,
  startHelper,
  startLiveServer,
} from "./live-processes.js";
import { type LiveResult, type LoadSummary, summarizeLoad } from "./live-report.js";

/** How the live scenario runs. */
export interface LiveOptions {
  root: string;
  outDir: string;
  sessions: number;
  seconds: number;
  intervalMs: number;
  setupConcurrency: number;
  backend: "sqlite" | "postgres";
  /** The PostgreSQL server (a schema `bench_live` is recreated in it) when the backend is postgres. */
  databaseUrl: string;
}

const AGENT = {
  name: "bench live agent",
  conversation_config: {
    agent: {
      first_message: "Hello! How can I help?",
      prompt: { prompt: "You are the benchmark's agent. Answer in one short sentence." },
    },
  },
};

const WARM_UP_SESSIONS = 50;
/** Warm-up sessions are numbered from here, so their tokens never match a measured message's. */
const WARM_UP_FIRST_INDEX = 1_000_000;

async function freshPostgresSchema(databaseUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query("DROP SCHEMA IF EXISTS bench_live CASCADE");
  await admin.query("CREATE SCHEMA bench_live");
  await admin.end();
  const url = new URL(databaseUrl);
  url.searchParams.set("options", "-c search_path=bench_live,public");
  return url.toString();
}

async function createAgent(server: LiveServer): Promise<string> {
  const response = await fetch(`${server.url}/v1/convai/agents/create`, {
    method: "POST",
    headers: { "xi-api-key": server.apiKey, "content-type": "application/json" },
    body: JSON.stringify(AGENT),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { agent_id?: string };
  if (!response.ok || !body.agent_id)
    throw new Error(`creating the agent failed: ${response.status} ${JSON.stringify(body)}`);
  return body.agent_id;
}

/**
 * Reads every session's conversation back: it must be `done` with the greeting and every
 * message and reply in its transcript. Returns how many are, and the first few that are not.
 */
async function checkRecorded(
  server: LiveServer,
  load: LiveLoadResult,
): Promise<{ recorded: number; problems: string[] }> {
  const expected = new Map<string, number>();
  for (const session of load.sessions) if (session.conversationId) expected.set(session.conversationId, 1);
  const bySession = new Map(load.sessions.map((s) => [s.index, s.conversationId]));
  for (const turn of load.turns) {
    const id = bySession.get(turn.session);
    if (id) expected.set(id, (expected.get(id) ?? 1) + 2);
  }
  const problems: string[] = [];
  let recorded = 0;
  const ids = [...expected.keys()];
  const deadline = Date.now() + 30_000;
  const worker = async () => {
    for (let id = ids.pop(); id !== undefined; id = ids.pop()) {
      let last = "";
      for (;;) {
        const response = await fetch(`${server.url}/v1/convai/conversations/${id}`, {
          headers: { "xi-api-key": server.apiKey },
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json()) as { status?: string; transcript?: unknown[] };
        const turns = body.transcript?.length ?? 0;
        if (body.status === "done" && turns === expected.get(id)) {
          recorded += 1;
          break;
        }
        last = `${id}: HTTP ${response.status}, status ${body.status}, ${turns} of ${expected.get(id)} turns`;
        if (Date.now() > deadline || body.status === "failed") {
          if (problems.length < 5) problems.push(last);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { recorded, problems };
}

/** A few sessions, a message each, not measured: the processes' code is warm when the load starts. */
async function warmUp(url: string, options: LiveOptions, expectGreeting: boolean): Promise<void> {
  const warm = await runLiveLoad({
    url,
    sessions: Math.min(WARM_UP_SESSIONS, options.sessions),
    seconds: options.intervalMs / 1000,
    intervalMs: options.intervalMs,
    setupConcurrency: options.setupConcurrency,
    expectGreeting,
    firstIndex: WARM_UP_FIRST_INDEX,
  });
  const failed = warm.sessions.find((s) => s.failure);
  if (failed) throw new Error(`the warm-up failed: ${failed.failure}`);
}

/** Runs the load against openconvai and the model server; returns what it measured. */
async function measureServer(options: LiveOptions): Promise<LiveResult["server"]> {
  const dataDir = path.join(options.outDir, "live-data");
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const databaseUrl = options.backend === "postgres" ? await freshPostgresSchema(options.databaseUrl) : "";
  const model = await startHelper("live-model-server.ts");
  const modelUrl = `http://127.0.0.1:${model.port}/v1`;
  const server = await startLiveServer({
    root: options.root,
    dataDir,
    logFile: path.join(options.outDir, "live-server.log"),
    env: {
      OPENCONVAI_LLM_BASE_URL: modelUrl,
      OPENCONVAI_LLM_MODEL: "bench-model",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(options.sessions > 1000 ? { OPENCONVAI_MAX_SESSIONS: String(options.sessions) } : {}),
    },
  }).catch(async (error: unknown) => {
    await model.stop();
    throw error;
  });
  try {
    const agentId = await createAgent(server);
    const idleRssMb = rssMb(server.pid);
    const sampler = rssSampler(server.pid);
    type Mark = Record<"server" | "model" | "client" | "machine" | "pressure" | "at", number>;
    const marks: Record<string, Mark> = {};
    const mark = (name: string) => {
      const client = process.cpuUsage();
      marks[name] = {
        server: cpuSeconds(server.pid),
        model: cpuSeconds(model.pid),
        client: (client.user + client.system) / 1e6,
        machine: machineBusySeconds(),
        pressure: cpuPressureSeconds(),
        at: performance.now(),
      };
    };
    let setupRssMb = 0;
    const socketUrl = `${server.url.replace(/^http/, "ws")}/v1/convai/conversation?agent_id=${agentId}`;
    await warmUp(socketUrl, options, true);
    // the warm-up sessions' post-call work (analysis) finishes before the measured load
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const load = await runLiveLoad({
      url: socketUrl,
      sessions: options.sessions,
      seconds: options.seconds,
      intervalMs: options.intervalMs,
      setupConcurrency: options.setupConcurrency,
      expectGreeting: true,
      onPhase: (phase) => {
        if (phase === "setup-done") setupRssMb = rssMb(server.pid);
        mark(phase);
      },
    });
    sampler.stop();
    const timings = (await (
      await fetch(`http://127.0.0.1:${model.port}/timings`, { signal: AbortSignal.timeout(10_000) })
    ).json()) as { requests: number; timings: Record<string, number> };
    const check = await checkRecorded(server, load);
    const start = marks["setup-done"];
    const end = marks["messages-done"];
    const window = start && end ? (end.at - start.at) / 1000 : Number.NaN;
    /** Cores (or, for pressure, the share of the time) a counter grew by over the message phase. */
    const rate = (key: keyof Mark) => (start && end ? (end[key] - start[key]) / window : Number.NaN);
    return {
      load: summarizeLoad(load, new Map(Object.entries(timings.timings))),
      modelRequests: timings.requests,
      recorded: check.recorded,
      recordProblems: check.problems,
      idleRssMb,
      setupRssMb,
      highestRssMb: sampler.highest(),
      peakRssMb: peakRssMb(server.pid),
      afterCloseRssMb: rssMb(server.pid),
      cpu: {
        server: rate("server"),
        model: rate("model"),
        client: rate("client"),
        others: rate("machine") - rate("server") - rate("model") - rate("client"),
        pressure: rate("pressure"),
      },
      log: logTrouble(server.logFile),
    };
  } finally {
    await server.stop();
    await model.stop();
  }
}

/** Runs the same load against the bare `ws` echo server: the baseline. */
async function measureBaseline(options: LiveOptions): Promise<LoadSummary> {
  const echo = await startHelper("live-echo-server.ts");
  try {
    await warmUp(`ws://127.0.0.1:${echo.port}/`, options, false);
    const load = await runLiveLoad({
      url: `ws://127.0.0.1:${echo.port}/`,
      sessions: options.sessions,
      seconds: options.seconds,
      intervalMs: options.intervalMs,
      setupConcurrency: options.setupConcurrency,
      expectGreeting: false,
    });
    return summarizeLoad(load, new Map());
  } finally {
    await echo.stop();
  }
}

/** The live scenario: openconvai under the load, then the baseline under the same load. */
export async function runLiveScenario(options: LiveOptions): Promise<LiveResult> {
  mkdirSync(options.outDir, { recursive: true });
  const loadAverage = os.loadavg()[0] ?? Number.NaN;
  process.stderr.write(
    `live: ${options.sessions} sessions, a message every ${options.intervalMs / 1000} s for ${options.seconds} s…\n`,
  );
  const server = await measureServer(options);
  process.stderr.write("live: the same load against the bare ws echo server (baseline)…\n");
  const baseline = await measureBaseline(options);
  return {
    sessions: options.sessions,
    seconds: options.seconds,
    intervalMs: options.intervalMs,
    setupConcurrency: options.setupConcurrency,
    backend: options.backend,
    loadAverage,
    server,
    baseline,
  };
}
