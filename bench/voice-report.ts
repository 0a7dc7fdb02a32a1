/**
 * The voice scenario's numbers: the client's records and the server's stored turn metrics summed
 * up (lateness of the agent's audio, the time the server adds to a spoken turn, failures), and the
 * markdown section appended to bench/RESULTS.md with the targets it meets.
 */
import { type Percentiles, percentiles } from "./live-report.js";
import type { VoiceLoadResult } from "./voice-records.js";

/** What the recording-encode measurement (bench/recording-encode.ts, 5 minutes) printed. */
export interface EncodeFigures {
  /** Process CPU over the encode, all threads. */
  cpuMs: number;
  /** The worker's mix + encode time. */
  encodeMs: number;
  /** The main thread's longest event-loop block during the encode, and over as long idle. */
  loopMaxMs: number;
  idleLoopMaxMs: number;
}

/** One agent turn as stored, with the providers' own times for its token (all ms). */
export interface StoredTurn {
  token: string;
  timeToFirstAudio: number;
  turnDetection: number;
  asr: number;
  llm: number;
  tts: number;
  own: { asr: number; llm: number; tts: number };
}

/** The audio lateness of a set of replies. */
export interface Lateness {
  replies: number;
  events: number;
  over100: number;
  p99: number;
  max: number;
}

/** Everything the voice scenario measured. */
export interface VoiceResult {
  sessions: number;
  seconds: number;
  periodMs: number;
  silenceWindowMs: number;
  backend: string;
  loadAverage: number;
  load: {
    setUp: number;
    failed: number;
    failures: string[];
    closedNormally: number;
    turnsSpoken: number;
    turnsTranscribed: number;
    turnsAnswered: number;
    earlyDecisions: number;
    interruptions: number;
    pongs: number;
    vadScores: number;
    talkSeconds: number;
  };
  lateness: { turns: Lateness; greetings: Lateness };
  /** From the stored metrics: first audio − end of speech − turn detection − the providers' own times. */
  storedAddedMs: Percentiles;
  storedTurns: number;
  /** What the server adds around each provider (its metric less the provider's own time). */
  partsMs: { asr: Percentiles; llm: Percentiles; tts: Percentiles };
  /** Client-side: first audio − the chunk that completed the silence window − the providers' own times. */
  clientAddedMs: Percentiles;
  clientTurns: number;
  providerMs: { asr: Percentiles; llm: Percentiles; tts: Percentiles };
  providerRequests: { asr: number; tts: number; invalid: number };
  /** Conversations read back `done`, and of them with their recording stored. */
  recorded: number;
  withAudio: number;
  recordProblems: string[];
  /** openconvai's RSS: idle, at the talk phase's start and end (before the closes and their encodes), highest, peak, at the end. */
  rssMb: {
    idle: number;
    streaming: number;
    talkDone: number;
    highest: number;
    peak: number;
    afterClose: number;
  };
  /** Cores used during the talk phase by each process, everything else, and the share of time a task waited. */
  cpu: {
    server: number;
    model: number;
    asr: number;
    tts: number;
    client: number;
    others: number;
    pressure: number;
  };
  encode: EncodeFigures | string;
  log: { warnings: number; errors: number; samples: string[] };
}

/** The lateness of the replies' audio events. */
export function lateness(replies: VoiceLoadResult["replies"]): Lateness {
  const late = replies.flatMap((r) => r.lateMs);
  const p = percentiles(late);
  return {
    replies: replies.length,
    events: late.length,
    over100: late.filter((ms) => ms > 100).length,
    p99: p.p99,
    max: p.max,
  };
}

/** The client-side server-added time of each answered turn (ms), given the providers' own times by token. */
export function clientAdded(load: VoiceLoadResult, own: (token: string) => number | undefined): number[] {
  const out: number[] = [];
  for (const turn of load.turns) {
    if (turn.token === undefined || turn.decisionSentAt === undefined || turn.firstAudioAt === undefined)
      continue;
    const providers = own(turn.token);
    if (providers !== undefined) out.push(turn.firstAudioAt - turn.decisionSentAt - providers);
  }
  return out;
}

/** Sums up the stored turns. */
export function summarizeStored(turns: StoredTurn[]): Pick<VoiceResult, "storedAddedMs" | "partsMs"> {
  return {
    storedAddedMs: percentiles(
      turns.map((t) => t.timeToFirstAudio - t.turnDetection - t.own.asr - t.own.llm - t.own.tts),
    ),
    partsMs: {
      asr: percentiles(turns.map((t) => t.asr - t.own.asr)),
      llm: percentiles(turns.map((t) => t.llm - t.own.llm)),
      tts: percentiles(turns.map((t) => t.tts - t.own.tts)),
    },
  };
}

const ms = (p: Percentiles) => `${p.p50} / ${p.p95} / ${p.p99} / ${p.max}`;
const n = (value: number) => Math.round(value).toLocaleString("en");
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

/** Whether every session completed: set up, every turn answered, closed 1000, recorded with audio. */
export function everyVoiceSessionCompleted(r: VoiceResult): boolean {
  const l = r.load;
  return (
    l.failed === 0 &&
    l.setUp === r.sessions &&
    l.turnsAnswered === l.turnsSpoken &&
    l.closedNormally === r.sessions &&
    r.withAudio === r.sessions
  );
}

function encodeLine(e: EncodeFigures | string): string {
  if (typeof e === "string") return `Recording encode (5 minutes): not measured: ${e}`;
  return (
    `Recording encode (bench/recording-encode.ts, a 5-minute call, its own process after the sessions): ` +
    `${n(e.cpuMs)} ms of CPU (all threads), ${n(e.encodeMs)} ms in the worker; the main loop's longest block ` +
    `${e.loopMaxMs.toFixed(1)} ms (${e.idleLoopMaxMs.toFixed(1)} ms over as long idle).`
  );
}

/** The voice section of bench/RESULTS.md. */
export function renderVoiceMarkdown(r: VoiceResult, meta: Record<string, string>): string {
  const l = r.load;
  const t = r.lateness.turns;
  const g = r.lateness.greetings;
  const perSession = (r.cpu.server / r.sessions) * 100;
  const lines = [
    `## ${meta.date} — voice sessions, ${r.backend}`,
    "",
    `commit ${meta.commit} · Node ${meta.node} · ${meta.cpu} · ${meta.cores} cores${meta.note ? ` · ${meta.note}` : ""}`,
    "",
    `**${n(r.sessions)} voice sessions** at pcm_16000, each streaming its microphone in real time (32 ms chunks) ` +
      `with a ~1 s spoken turn every ${r.periodMs / 1000} s for ${r.seconds} s (staggered), turn_eagerness eager ` +
      `(${r.silenceWindowMs} ms silence ends a turn), record_voice on. ASR, LLM and TTS are local OpenAI-compatible ` +
      `servers that answer at once, each its own process; the client, openconvai and the three servers share ` +
      `the machine's cores (load average ${r.loadAverage.toFixed(2)} at the start).`,
    "",
    "| | |",
    "|---|---:|",
    `| sessions set up / failed / closed 1000 at the end | ${n(l.setUp)} / ${n(l.failed)} / ${n(l.closedNormally)} |`,
    `| turns spoken / transcribed / answered | ${n(l.turnsSpoken)} / ${n(l.turnsTranscribed)} / ${n(l.turnsAnswered)} |`,
    `| audio events of the replies (late > 100 ms) | ${n(t.events)} in ${n(t.replies)} replies (${n(t.over100)}) |`,
    `| **audio lateness ms** p99 / max | **${t.p99} / ${t.max}** |`,
    `| greetings (during set-up): events (late > 100 ms), lateness p99 / max | ${n(g.events)} (${n(g.over100)}), ${g.p99} / ${g.max} |`,
    `| **server-added ms, stored metrics** p50 / p95 / p99 / max (${n(r.storedTurns)} turns) | **${ms(r.storedAddedMs)}** |`,
    `| of which around the ASR / the LLM / the TTS, p50 / p95 / p99 / max | ${ms(r.partsMs.asr)} · ${ms(r.partsMs.llm)} · ${ms(r.partsMs.tts)} |`,
    `| server-added ms, client-side cross-check p50 / p95 / p99 / max (${n(r.clientTurns)} turns) | ${ms(r.clientAddedMs)} |`,
    `| providers' own ms p50 / p95 / p99 / max: ASR · LLM · TTS | ${ms(r.providerMs.asr)} · ${ms(r.providerMs.llm)} · ${ms(r.providerMs.tts)} |`,
    `| conversations read back \`done\` / with their recording | ${n(r.recorded)} / ${n(r.withAudio)} |`,
    "",
    `Server RSS: ${n(r.rssMb.idle)} MB idle · ${n(r.rssMb.streaming)} MB with every session streaming · ` +
      `${n(r.rssMb.talkDone)} MB at the end of the talk phase (recordings held, before the closes) · ` +
      `${n(r.rssMb.highest)} MB highest sampled · peak (VmHWM) ${n(r.rssMb.peak)} MB · ${n(r.rssMb.afterClose)} MB after the recordings were stored. ` +
      `CPU during the talk phase (cores): openconvai ${r.cpu.server.toFixed(2)} (**${perSession.toFixed(2)}% of a core per session**), ` +
      `model ${r.cpu.model.toFixed(2)}, ASR ${r.cpu.asr.toFixed(2)}, TTS ${r.cpu.tts.toFixed(2)}, client ${r.cpu.client.toFixed(2)}, ` +
      `everything else ${Math.max(0, r.cpu.others).toFixed(2)}; some task waited for a core ${Math.round(r.cpu.pressure * 100)}% of the time. ` +
      `Provider requests: ASR ${n(r.providerRequests.asr)}, TTS ${n(r.providerRequests.tts)}, refused ${n(r.providerRequests.invalid)}. ` +
      `Interruptions ${n(l.interruptions)}, turns ended before the expected chunk ${n(l.earlyDecisions)}, pings answered ${n(l.pongs)}, ` +
      `vad_score events ${n(l.vadScores)}. Server log: ${r.log.errors} errors, ${r.log.warnings} warnings.`,
    "",
    encodeLine(r.encode),
  ];
  if (l.failures.length > 0) lines.push("", `Failures: ${l.failures.slice(0, 5).join("; ")}`);
  if (r.recordProblems.length > 0) lines.push("", `Not recorded as expected: ${r.recordProblems.join("; ")}`);
  if (r.log.samples.length > 0)
    lines.push("", "Server log samples:", "", ...r.log.samples.map((x) => `    ${x}`));
  const e = typeof r.encode === "string" ? undefined : r.encode;
  lines.push(
    "",
    `Targets: every session completes: ${verdict(everyVoiceSessionCompleted(r))} · ` +
      `no audio event late > 100 ms: ${verdict(t.events > 0 && t.over100 === 0)} (max ${t.max} ms, p99 ${t.p99} ms) · ` +
      `server-added p99 ≤ 20 ms: ${verdict(r.storedAddedMs.p99 <= 20)} (${r.storedAddedMs.p99} ms stored, ${r.clientAddedMs.p99} ms client-side) · ` +
      (e
        ? `5-minute recording encode ≤ 2 s CPU: ${verdict(e.cpuMs <= 2000)} (${n(e.cpuMs)} ms) · ` +
          `event loop never blocked > 10 ms: ${verdict(e.loopMaxMs <= 10)} (${e.loopMaxMs.toFixed(1)} ms) · `
        : "recording encode: not measured · ") +
      `CPU per session: ${perSession.toFixed(2)}% of a core · peak RSS: ${n(r.rssMb.peak)} MB` +
      (r.sessions === 100 && r.seconds >= 30 ? "" : " · (targets are defined at 100 sessions)"),
  );
  return `${lines.join("\n")}\n\n`;
}
