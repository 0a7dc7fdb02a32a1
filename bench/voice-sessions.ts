/**
 * The voice scenario: many concurrent voice sessions over the agent WebSocket at pcm_16000, each
 * streaming its microphone in real time with a spoken turn every few seconds
 * (bench/voice-client.ts), against openconvai (its own process) whose recognizer, model and voice
 * are local OpenAI-compatible servers that answer at once (bench/voice-speech-server.ts twice,
 * bench/live-model-server.ts; each its own process, each recording its own time per turn).
 *
 * It measures whether every session stays in real time (the lateness of the agent's audio events
 * as a player queues them), the time the server adds between the detected end of speech and the
 * first `audio` event less the providers' own time (from the turn metrics the server stores, read
 * back after the run, and cross-checked from the client's clock), CPU per session and RSS, checks
 * that every session completed and its recording was stored, then measures the recording encode
 * of a 5-minute call (bench/recording-encode.ts, its own process).
 */
import { mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  cpuPressureSeconds,
  cpuSeconds,
  type LiveProcess,
  logTrouble,
  machineBusySeconds,
  peakRssMb,
  rssMb,
  rssSampler,
  startHelper,
  startLiveServer,
} from "./live-processes.js";
import { percentiles } from "./live-report.js";
import { createAgent, freshPostgresSchema } from "./voice-agent.js";
import { runVoiceLoad, type VoiceLoadOptions, type VoiceLoadResult } from "./voice-client.js";
import { measureEncode } from "./voice-encode.js";
import { readStoredTurns } from "./voice-readback.js";
import { clientAdded, lateness, summarizeStored, type VoiceResult } from "./voice-report.js";

/** How the voice scenario runs. */
export interface VoiceOptions {
  root: string;
  outDir: string;
  sessions: number;
  seconds: number;
  /** A spoken turn every this many ms per session. */
  periodMs: number;
  setupConcurrency: number;
  backend: "sqlite" | "postgres";
  /** The PostgreSQL server (a schema `bench_voice` is recreated in it) when the backend is postgres. */
  databaseUrl: string;
}

/** `turn_eagerness: "eager"` ends a turn after this much silence (docs/live-conversations.md). */
const EAGER_SILENCE_MS = 500;
const LEAD_MS = 2000;
const WARM_UP_SESSIONS = 10;

interface Timings {
  requests: number;
  invalid?: number;
  timings: Record<string, number>;
}

async function timingsOf(helper: LiveProcess): Promise<Timings> {
  const response = await fetch(`http://127.0.0.1:${helper.port}/timings`, {
    signal: AbortSignal.timeout(10_000),
  });
  return (await response.json()) as Timings;
}

function loadOptions(options: VoiceOptions, url: string): VoiceLoadOptions {
  return {
    url,
    sessions: options.sessions,
    seconds: options.seconds,
    periodMs: options.periodMs,
    silenceWindowMs: EAGER_SILENCE_MS,
    setupConcurrency: options.setupConcurrency,
    leadMs: LEAD_MS,
  };
}

/** A few sessions, a turn each, not measured: the processes' code is warm when the load starts. */
async function warmUp(url: string, options: VoiceOptions): Promise<void> {
  const warm = await runVoiceLoad({
    ...loadOptions(options, url),
    sessions: Math.min(WARM_UP_SESSIONS, options.sessions),
    // one turn each: the first bursts spread over 2 s, and a second would start after the 1 s phase
    seconds: 1,
    periodMs: 2000,
  });
  const failed = warm.sessions.find((s) => s.failure);
  if (failed) throw new Error(`the voice warm-up failed: ${failed.failure}`);
}

function loadSummary(load: VoiceLoadResult): VoiceResult["load"] {
  const reasons = new Map<string, number>();
  for (const s of load.sessions) {
    if (!s.failure) continue;
    const reason = s.failure.replace(/lt-\d+-\d+/g, "lt-…");
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const sum = (pick: (s: VoiceLoadResult["sessions"][number]) => number) =>
    load.sessions.reduce((total, s) => total + pick(s), 0);
  return {
    setUp: load.sessions.filter((s) => s.setupMs !== undefined).length,
    failed: load.sessions.filter((s) => s.failure).length,
    failures: [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${count}× ${reason}`),
    closedNormally: load.sessions.filter((s) => s.closed?.code === 1000).length,
    turnsSpoken: load.turns.length,
    turnsTranscribed: load.turns.filter((t) => t.token !== undefined).length,
    turnsAnswered: load.turns.filter((t) => t.responseAt !== undefined).length,
    earlyDecisions: sum((s) => s.earlyDecisions),
    interruptions: sum((s) => s.interruptions),
    pongs: sum((s) => s.pongs),
    vadScores: sum((s) => s.vadScores),
    talkSeconds: load.talkSeconds,
  };
}

/** The voice scenario. */
export async function runVoiceScenario(options: VoiceOptions): Promise<VoiceResult> {
  mkdirSync(options.outDir, { recursive: true });
  const loadAverage = os.loadavg()[0] ?? Number.NaN;
  process.stderr.write(
    `voice: ${options.sessions} sessions, a spoken turn every ${options.periodMs / 1000} s for ${options.seconds} s…\n`,
  );
  const dataDir = path.join(options.outDir, "voice-data");
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const databaseUrl = options.backend === "postgres" ? await freshPostgresSchema(options.databaseUrl) : "";
  const helpers: LiveProcess[] = [];
  try {
    const model = await startHelper("live-model-server.ts");
    helpers.push(model);
    const asr = await startHelper("voice-speech-server.ts");
    helpers.push(asr);
    const tts = await startHelper("voice-speech-server.ts");
    helpers.push(tts);
    const server = await startLiveServer({
      root: options.root,
      dataDir,
      logFile: path.join(options.outDir, "voice-server.log"),
      env: {
        OPENCONVAI_LLM_BASE_URL: `http://127.0.0.1:${model.port}/v1`,
        OPENCONVAI_LLM_MODEL: "bench-model",
        OPENCONVAI_ASR_BASE_URL: `http://127.0.0.1:${asr.port}/v1`,
        OPENCONVAI_ASR_MODEL: "bench-whisper",
        OPENCONVAI_TTS_BASE_URL: `http://127.0.0.1:${tts.port}/v1`,
        OPENCONVAI_TTS_MODEL: "bench-tts",
        OPENCONVAI_TTS_RESPONSE_FORMAT: "pcm",
        OPENCONVAI_TTS_SAMPLE_RATE: "24000",
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        ...(options.sessions > 1000 ? { OPENCONVAI_MAX_SESSIONS: String(options.sessions) } : {}),
      },
    });
    helpers.push(server);
    const agentId = await createAgent(server);
    const socketUrl = `${server.url.replace(/^http/, "ws")}/v1/convai/conversation?agent_id=${agentId}`;
    await warmUp(socketUrl, options);
    // the warm-up calls' recordings and analyses finish before the measured load
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleRssMb = rssMb(server.pid);
    const sampler = rssSampler(server.pid);
    type Mark = Record<"server" | "model" | "asr" | "tts" | "client" | "machine" | "pressure" | "at", number>;
    const marks: Record<string, Mark> = {};
    let streamingRssMb = 0;
    let talkDoneRssMb = 0;
    const load = await runVoiceLoad({
      ...loadOptions(options, socketUrl),
      onPhase: (phase) => {
        if (phase === "talk-start") streamingRssMb = rssMb(server.pid);
        if (phase === "talk-done") talkDoneRssMb = rssMb(server.pid);
        const client = process.cpuUsage();
        marks[phase] = {
          server: cpuSeconds(server.pid),
          model: cpuSeconds(model.pid),
          asr: cpuSeconds(asr.pid),
          tts: cpuSeconds(tts.pid),
          client: (client.user + client.system) / 1e6,
          machine: machineBusySeconds(),
          pressure: cpuPressureSeconds(),
          at: performance.now(),
        };
      },
    });
    const [llmTimes, asrTimes, ttsTimes] = await Promise.all([
      timingsOf(model),
      timingsOf(asr),
      timingsOf(tts),
    ]);
    const own = (token: string) => {
      const [a, l, t] = [asrTimes.timings[token], llmTimes.timings[token], ttsTimes.timings[token]];
      return a === undefined || l === undefined || t === undefined ? undefined : a + l + t;
    };
    const ids = load.sessions.flatMap((s) => (s.conversationId ? [s.conversationId] : []));
    const stored = await readStoredTurns(server, ids, (token) => ({
      asr: asrTimes.timings[token],
      llm: llmTimes.timings[token],
      tts: ttsTimes.timings[token],
    }));
    sampler.stop();
    const start = marks["talk-start"];
    const end = marks["talk-done"];
    const window = start && end ? (end.at - start.at) / 1000 : Number.NaN;
    const rate = (key: keyof Mark) => (start && end ? (end[key] - start[key]) / window : Number.NaN);
    const cpu = {
      server: rate("server"),
      model: rate("model"),
      asr: rate("asr"),
      tts: rate("tts"),
      client: rate("client"),
      others: 0,
      pressure: rate("pressure"),
    };
    cpu.others = rate("machine") - cpu.server - cpu.model - cpu.asr - cpu.tts - cpu.client;
    const clientSide = clientAdded(load, own);
    const result: Omit<VoiceResult, "encode"> = {
      sessions: options.sessions,
      seconds: options.seconds,
      periodMs: options.periodMs,
      silenceWindowMs: EAGER_SILENCE_MS,
      backend: options.backend,
      loadAverage,
      load: loadSummary(load),
      lateness: {
        turns: lateness(load.replies.filter((r) => !r.greeting)),
        greetings: lateness(load.replies.filter((r) => r.greeting)),
      },
      ...summarizeStored(stored.turns),
      storedTurns: stored.turns.length,
      clientAddedMs: percentiles(clientSide),
      clientTurns: clientSide.length,
      providerMs: {
        asr: percentiles(Object.values(asrTimes.timings)),
        llm: percentiles(Object.values(llmTimes.timings)),
        tts: percentiles(Object.values(ttsTimes.timings)),
      },
      providerRequests: {
        asr: asrTimes.requests,
        tts: ttsTimes.requests,
        invalid: (asrTimes.invalid ?? 0) + (ttsTimes.invalid ?? 0),
      },
      recorded: stored.recorded,
      withAudio: stored.withAudio,
      recordProblems: stored.problems,
      rssMb: {
        idle: idleRssMb,
        streaming: streamingRssMb,
        talkDone: talkDoneRssMb,
        highest: sampler.highest(),
        peak: peakRssMb(server.pid),
        afterClose: rssMb(server.pid),
      },
      cpu,
      log: logTrouble(server.logFile),
    };
    for (const helper of helpers.splice(0).reverse()) await helper.stop();
    process.stderr.write("voice: the 5-minute recording encode (bench/recording-encode.ts)…\n");
    return { ...result, encode: await measureEncode(options.root) };
  } finally {
    for (const helper of helpers.reverse()) await helper.stop();
  }
}
