/**
 * The live benchmark's processes: openconvai (`dist/cli/bin.js serve`, its log written to a file
 * so errors under load can be counted), the helper servers (model, echo baseline), and a meter
 * that samples a process's resident memory and CPU time from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const CLOCK_TICKS_PER_SECOND = 100;

/** A child process the benchmark started, with the port it listens on. */
export interface LiveProcess {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

/** Starts one of bench/'s helper servers (it prints its port on stdout). */
export async function startHelper(script: string): Promise<LiveProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, script)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { pid: child.pid ?? 0, port, stop: stopper(child) };
}

/** openconvai as a child process, its stdout and stderr in a log file. */
export interface LiveServer extends LiveProcess {
  url: string;
  apiKey: string;
  logFile: string;
}

/**
 * The Node flags the installed command runs with: those of the bin's `#!/usr/bin/env -S node …`
 * line, so the server measured is the one `openconvai serve` starts (and `npm start`, which passes
 * the same flags).
 */
export function binNodeFlags(bin: string): string[] {
  const first = readFileSync(bin, "utf8").split("\n", 1)[0] ?? "";
  const match = /^#!\/usr\/bin\/env -S node (.+)$/.exec(first);
  return match?.[1]?.split(" ").filter(Boolean) ?? [];
}

/** Starts `openconvai serve` from dist/ on a free port with extra environment; waits until it listens. */
export async function startLiveServer(options: {
  root: string;
  dataDir: string;
  logFile: string;
  env: Record<string, string>;
}): Promise<LiveServer> {
  const apiKey = "oc_bench_key_0123456789abcdefghijklmnopqrstuv";
  const log = openSync(options.logFile, "w");
  // BENCH_CPU_PROF_DIR=<dir> writes a V8 CPU profile of the server there (NODE_OPTIONS can't carry it);
  // BENCH_SERVER_NODE_ARGS adds Node flags of your own (e.g. "--trace-gc"), split on spaces.
  const profile = [
    ...(process.env.BENCH_CPU_PROF_DIR
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
      : []),
    ...(process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
  ];
  const bin = path.join(options.root, "dist", "cli", "bin.js");
  const child = spawn(
    process.execPath,
    [...binNodeFlags(bin), ...profile, bin, "serve", "--port", "0", "--data", options.dataDir],
    {
      env: {
        ...process.env,
        OPENCONVAI_BOOTSTRAP_KEY: apiKey,
        OPENCONVAI_LOG_FORMAT: "json",
        ...options.env,
      },
      stdio: ["ignore", log, log],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const text = readFileSync(options.logFile, "utf8");
      const match = /serving the Conversations API on (http:\/\/\S+)/.exec(text);
      if (match?.[1]) {
        clearInterval(poll);
        resolve(match[1]);
      } else if (child.exitCode !== null || Date.now() - started > 60_000) {
        clearInterval(poll);
        reject(new Error(`the server did not start: ${text.slice(-2000)}`));
      }
    }, 50);
  });
  return {
    pid: child.pid ?? 0,
    port: Number(new URL(url).port),
    url,
    apiKey,
    logFile: options.logFile,
    stop: stopper(child),
  };
}

/** What a process's log says about trouble: lines at warn or above, and a few of them. */
export function logTrouble(logFile: string): { warnings: number; errors: number; samples: string[] } {
  let warnings = 0;
  let errors = 0;
  const samples: string[] = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    let level = 0;
    try {
      level = Number((JSON.parse(line) as { level?: number }).level ?? 0);
    } catch {
      // a line that is not JSON (the startup banner, hints, or a crash trace)
      level = /error|exception|fatal|^\s+at /i.test(line) ? 50 : 0;
    }
    if (level >= 50) errors += 1;
    else if (level >= 40) warnings += 1;
    if (level >= 40 && samples.length < 5) samples.push(line.slice(0, 400));
  }
  return { warnings, errors, samples };
}

function procStatus(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, "utf8");
}

/** A process's resident set size now, in MB. */
export function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(procStatus(pid))?.[1] ?? 0) / 1024;
}

/** A process's peak resident set size so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(procStatus(pid))?.[1] ?? 0) / 1024;
}

/** A process's user + system CPU time so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // after the command: state is field 3, utime field 14 and stime field 15 (1-based in proc(5))
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time every core of the machine spent busy so far (user, nice, system, irq, softirq, steal), in seconds. */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    CLOCK_TICKS_PER_SECOND
  );
}

/** Seconds some runnable task waited for a CPU so far (/proc/pressure/cpu "some"), or NaN without PSI. */
export function cpuPressureSeconds(): number {
  try {
    const text = readFileSync("/proc/pressure/cpu", "utf8");
    return Number(/some .*total=(\d+)/.exec(text)?.[1] ?? Number.NaN) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Samples a process's RSS every 200 ms while a load runs and remembers the highest (bench/voice-sessions.ts). */
export function rssSampler(pid: number): { highest(): number; stop(): void } {
  let highest = 0;
  const sample = () => {
    try {
      highest = Math.max(highest, rssMb(pid));
    } catch {
      // the process is gone
    }
  };
  const timer = setInterval(sample, 200);
  return {
    highest: () => highest,
    stop: () => {
      sample();
      clearInterval(timer);
    },
  };
}
