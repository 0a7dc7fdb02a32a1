/**
 * `openconvai serve` from the sources as a real child process (for what only a process shows: a
 * SIGKILL, a restart on the same storage).
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { TestStorage } from "./backends.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A spawned server. */
export interface ServerProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  url: string;
  exited: Promise<void>;
}

/**
 * Starts `openconvai serve` on the storage with the key and the extra environment (the rest of
 * this process's OPENCONVAI_*, DATABASE_URL and ELEVENLABS_* settings are left out: the
 * development agent answers), and resolves once it says where it serves. `onStarted` gets a
 * cleanup that kills it, for the suite to run after each test.
 */
export async function spawnServer(
  storage: TestStorage,
  options: {
    apiKey: string;
    env?: Record<string, string>;
    onStarted: (cleanup: () => Promise<void>) => void;
  },
): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(OPENCONVAI_|DATABASE_URL$|ELEVENLABS_)/.test(name)) env[name] = value;
  }
  Object.assign(env, options.env, {
    OPENCONVAI_BOOTSTRAP_KEY: options.apiKey,
    OPENCONVAI_LOG_FORMAT: "json",
  });
  const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--data", storage.dataDir];
  if (storage.databaseUrl) args.push("--database-url", storage.databaseUrl);
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], {
    cwd: REPO,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stdout.resume();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  options.onStarted(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const serving = /serving the Conversations API on (http:\/\/\S+?) \(/.exec(stderr);
      if (serving?.[1]) resolve(serving[1]);
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before serving:\n${stderr}`)));
  });
  return { child, url, exited };
}
