/**
 * The live scenario's numbers: what one load measured, summed up (percentiles, rates, failures),
 * and the markdown section appended to bench/RESULTS.md with the targets it meets.
 */
import type { LiveLoadResult } from "./live-client.js";

/** Percentiles of a list of milliseconds. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One load, summed up. */
export interface LoadSummary {
  sessions: number;
  /** Sessions whose metadata (and greeting, when expected) arrived. */
  setUp: number;
  /** Sessions set up per second: set-up sessions / (first connect → last metadata). */
  setupRate: number;
  setupMs: Percentiles;
  /** Sessions that failed, and the most common reasons with their counts. */
  failed: number;
  failures: string[];
  /** Sessions closed with 1000 at the end. */
  closedNormally: number;
  turnsSent: number;
  turnsAnswered: number;
  /** Wall time of the message phase, in seconds. */
  messageSeconds: number;
  /** Ticks skipped because the previous reply had not arrived. */
  skippedTicks: number;
  pongs: number;
  /** Message sent → first agent_chat_response_part. */
  firstPartMs: Percentiles;
  /** The same less the model server's own time for that message: the latency the server adds. */
  addedMs: Percentiles;
  /** Turns for which the model server recorded its time (0 when the brain does not call it). */
  turnsThroughModel: number;
  modelMs: Percentiles;
  /** Message sent → agent_response. */
  replyMs: Percentiles;
}

/** Everything the live scenario measured. */
export interface LiveResult {
  sessions: number;
  seconds: number;
  intervalMs: number;
  setupConcurrency: number;
  backend: string;
  /** The machine's 1-minute load average when the scenario started (other work on the cores). */
  loadAverage: number;
  server: {
    load: LoadSummary;
    modelRequests: number;
    /** Conversations read back `done` with their whole transcript. */
    recorded: number;
    recordProblems: string[];
    idleRssMb: number;
    setupRssMb: number;
    highestRssMb: number;
    peakRssMb: number;
    afterCloseRssMb: number;
    /**
     * CPU used during the message phase, in cores (1 = one core busy): by each process, by
     * everything else on the machine, and the share of the time some task waited for a core.
     */
    cpu: { server: number; model: number; client: number; others: number; pressure: number };
    log: { warnings: number; errors: number; samples: string[] };
  };
  baseline: LoadSummary;
}

/** The percentiles of a list (nearest rank), rounded to 0.01 ms; NaN when empty. */
export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    if (sorted.length === 0) return Number.NaN;
    const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
    return Math.round(value * 100) / 100;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

/** Sums up one load; `modelMs` is the model server's own time by token. */
export function summarizeLoad(load: LiveLoadResult, modelMs: Map<string, number>): LoadSummary {
  const reasons = new Map<string, number>();
  for (const s of load.sessions) {
    if (!s.failure) continue;
    const reason = s.failure.replace(/lt-\d+-\d+/g, "lt-…");
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const firstPart: number[] = [];
  const added: number[] = [];
  const model: number[] = [];
  const reply: number[] = [];
  for (const turn of load.turns) {
    if (turn.firstPartAt !== undefined) {
      const raw = turn.firstPartAt - turn.sentAt;
      const own = modelMs.get(turn.token);
      firstPart.push(raw);
      added.push(raw - (own ?? 0));
      if (own !== undefined) model.push(own);
    }
    if (turn.responseAt !== undefined) reply.push(turn.responseAt - turn.sentAt);
  }
  const setUp = load.sessions.filter((s) => s.setupMs !== undefined);
  return {
    sessions: load.sessions.length,
    setUp: setUp.length,
    setupRate: setUp.length / load.setupSeconds,
    setupMs: percentiles(setUp.map((s) => s.setupMs ?? 0)),
    failed: load.sessions.filter((s) => s.failure).length,
    failures: [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${n}× ${reason}`),
    closedNormally: load.sessions.filter((s) => s.closed?.code === 1000).length,
    turnsSent: load.turns.length,
    turnsAnswered: reply.length,
    messageSeconds: load.messageSeconds,
    skippedTicks: load.sessions.reduce((sum, s) => sum + s.skippedTicks, 0),
    pongs: load.sessions.reduce((sum, s) => sum + s.pongs, 0),
    firstPartMs: percentiles(firstPart),
    addedMs: percentiles(added),
    turnsThroughModel: model.length,
    modelMs: percentiles(model),
    replyMs: percentiles(reply),
  };
}

const ms = (p: Percentiles) => `${p.p50} / ${p.p95} / ${p.p99} / ${p.max}`;
const n = (value: number) => Math.round(value).toLocaleString("en");

/** Whether every session completed: set up, every message answered, closed 1000, recorded `done`. */
export function everySessionCompleted(r: LiveResult): boolean {
  const l = r.server.load;
  return (
    l.failed === 0 &&
    l.setUp === r.sessions &&
    l.turnsAnswered === l.turnsSent &&
    l.closedNormally === r.sessions &&
    r.server.recorded === r.sessions
  );
}

/** The live section of bench/RESULTS.md. */
export function renderLiveMarkdown(r: LiveResult, meta: Record<string, string>): string {
  const s = r.server;
  const l = s.load;
  const b = r.baseline;
  const brain =
    l.turnsThroughModel > 0
      ? `the model brain (${n(l.turnsThroughModel)} of ${n(l.turnsSent)} messages reached the model server)`
      : "the development agent (no message reached the model server: nothing to subtract)";
  const lines = [
    `## ${meta.date} — live sessions, ${r.backend}`,
    "",
    `commit ${meta.commit} · Node ${meta.node} · ${meta.cpu} · ${meta.cores} cores${meta.note ? ` · ${meta.note}` : ""}`,
    "",
    `**${n(r.sessions)} text sessions**, a message every ${r.intervalMs / 1000} s for ${r.seconds} s, ` +
      `set up ${r.setupConcurrency} at a time; answered by ${brain}. ` +
      `Client, openconvai and the model server share the machine's cores (load average ${r.loadAverage.toFixed(2)} at the start).`,
    "",
    "| | openconvai | baseline: bare ws echo, same load |",
    "|---|---:|---:|",
    `| sessions set up | ${n(l.setUp)} / ${n(l.sessions)} | ${n(b.setUp)} / ${n(b.sessions)} |`,
    `| sessions set up per second | ${n(l.setupRate)} | ${n(b.setupRate)} |`,
    `| set-up ms p50 / p95 / p99 / max | ${ms(l.setupMs)} | ${ms(b.setupMs)} |`,
    `| messages sent / answered | ${n(l.turnsSent)} / ${n(l.turnsAnswered)} | ${n(b.turnsSent)} / ${n(b.turnsAnswered)} |`,
    `| first part ms p50 / p95 / p99 / max | ${ms(l.firstPartMs)} | ${ms(b.firstPartMs)} |`,
    `| model server's own ms p50 / p95 / p99 / max | ${l.turnsThroughModel ? ms(l.modelMs) : "-"} | - |`,
    `| **server-added ms** p50 / p95 / p99 / max | **${ms(l.addedMs)}** | ${ms(b.addedMs)} |`,
    `| whole reply ms p50 / p95 / p99 / max | ${ms(l.replyMs)} | ${ms(b.replyMs)} |`,
    `| sessions failed | ${n(l.failed)} | ${n(b.failed)} |`,
    `| ticks skipped (reply still pending) | ${n(l.skippedTicks)} | ${n(b.skippedTicks)} |`,
    `| closed 1000 at the end | ${n(l.closedNormally)} | ${n(b.closedNormally)} |`,
    `| conversations read back \`done\`, whole transcript | ${n(s.recorded)} | - |`,
    "",
    `Server RSS: ${n(s.idleRssMb)} MB idle · ${n(s.setupRssMb)} MB with all sessions open · ` +
      `${n(s.highestRssMb)} MB highest sampled · peak (VmHWM) ${n(s.peakRssMb)} MB · ${n(s.afterCloseRssMb)} MB after they closed. ` +
      `CPU during the messages (cores): openconvai ${s.cpu.server.toFixed(2)}, model server ${s.cpu.model.toFixed(2)}, ` +
      `client ${s.cpu.client.toFixed(2)}, everything else on the machine ${Math.max(0, s.cpu.others).toFixed(2)}; ` +
      `some task waited for a core ${Math.round(s.cpu.pressure * 100)}% of the time; openconvai's CPU per message ${((s.cpu.server * l.messageSeconds * 1000) / l.turnsSent).toFixed(2)} ms. Pings answered: ${n(l.pongs)}. ` +
      `Server log: ${s.log.errors} errors, ${s.log.warnings} warnings.`,
  ];
  if (l.failures.length > 0) lines.push("", `Failures: ${l.failures.slice(0, 5).join("; ")}`);
  if (s.recordProblems.length > 0) lines.push("", `Not recorded as expected: ${s.recordProblems.join("; ")}`);
  if (s.log.samples.length > 0)
    lines.push("", "Server log samples:", "", ...s.log.samples.map((x) => `    ${x}`));
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
  const ratio = l.addedMs.p99 / b.addedMs.p99;
  lines.push(
    "",
    `Targets: every session completes: ${verdict(everySessionCompleted(r))} · ` +
      `server-added p99 ≤ 5 ms: ${verdict(l.addedMs.p99 <= 5)} (${l.addedMs.p99} ms, ${ratio.toFixed(1)}× the baseline's ${b.addedMs.p99} ms) · ` +
      `peak RSS ≤ 400 MB: ${verdict(s.peakRssMb <= 400)} (${n(s.peakRssMb)} MB) · ` +
      `sessions set up per second: ${n(l.setupRate)} (${(l.setupRate / b.setupRate).toFixed(2)}× the baseline)` +
      (r.sessions === 500 && r.intervalMs === 2000 ? "" : " · (targets are defined at 500 sessions, 2 s)"),
  );
  return `${lines.join("\n")}\n\n`;
}
