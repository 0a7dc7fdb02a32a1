import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { binNodeFlags } from "./live-processes.js";

/** An openconvai server running as a child process, as a user would run it. */
export interface ServerProcess {
  url: string;
  apiKey: string;
  pid: number;
  /** The process's peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** Starts `openconvai serve` from dist/ on a free port and waits until it listens. */
export async function startServerProcess(options: {
  root: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** More environment for the server (settings of its own, e.g. an embeddings provider). */
  env?: Record<string, string>;
}): Promise<ServerProcess> {
  const apiKey = "oc_bench_key_0123456789abcdefghijklmnopqrstuv";
  const bin = path.join(options.root, "dist", "cli", "bin.js");
  // With the Node flags `openconvai serve` and `npm start` run with (the bin's #! line).
  const child = spawn(
    process.execPath,
    [...binNodeFlags(bin), bin, "serve", "--port", "0", "--data", options.dataDir],
    {
      env: {
        ...process.env,
        OPENCONVAI_BOOTSTRAP_KEY: apiKey,
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
        ...(options.env ?? {}),
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${text}`)), 60_000);
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /serving the Conversations API on (http:\/\/\S+)/.exec(text);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${text}`)));
  });
  const pid = child.pid ?? 0;
  return {
    url,
    apiKey,
    pid,
    peakRssMb: () => {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
