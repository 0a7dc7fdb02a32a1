import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type BetterSqlite3 from "better-sqlite3";

/** How often the background thread moves the write-ahead log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 500;

/** What SQLite does on its own when no checkpointer runs: a checkpoint once the log has this many pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

/**
 * The worker's code, plain CommonJS run with `eval` (so it needs no loader from the TypeScript
 * sources): a second connection that runs a PASSIVE checkpoint every interval. A passive
 * checkpoint never waits for the writer and never blocks it; it copies the committed pages into
 * the database file and syncs it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch (error) { parentPort.postMessage({ error: String(error && error.message) }); }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  try { db.pragma("wal_checkpoint(PASSIVE)"); } finally { db.close(); }
  process.exit(0);
});
`;

/**
 * Keeps checkpoints of a server's SQLite database off its event loop. With SQLite's automatic
 * checkpoints, the commit that fills the log past 1,000 pages copies them into the database file
 * and syncs it on the spot, so now and then one write of a live session held the event loop for
 * tens of milliseconds. Here the connection's automatic checkpoints are off and a worker thread
 * with a connection of its own checkpoints every CHECKPOINT_INTERVAL_MS. If the worker cannot
 * start or fails, automatic checkpoints come back on, so the log never grows without bound.
 */
export class WalCheckpointer {
  private readonly worker: Worker | undefined;
  private stopped = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    file: string,
    onError: (message: string) => void = () => undefined,
  ) {
    try {
      const driver = createRequire(import.meta.url).resolve("better-sqlite3");
      this.worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { driver, file, intervalMs: CHECKPOINT_INTERVAL_MS },
      });
    } catch (error) {
      onError(`the background checkpointer did not start: ${(error as Error).message}`);
      return;
    }
    db.pragma("wal_autocheckpoint = 0");
    // The server's own work keeps the process alive, never this thread.
    this.worker.unref();
    this.worker.on("message", (message: { error?: string }) => {
      if (message.error) onError(`a background checkpoint failed: ${message.error}`);
    });
    const fallBack = (why: string) => {
      if (this.stopped) return;
      this.stopped = true;
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      onError(`the background checkpointer stopped (${why}); SQLite checkpoints on its own again`);
    };
    this.worker.on("error", (error) => fallBack(error.message));
    this.worker.on("exit", (code) => fallBack(`exit code ${code}`));
  }

  /** Whether checkpoints run in the background (the connection's own are off). */
  get running(): boolean {
    return this.worker !== undefined && !this.stopped;
  }

  /** Stops the worker after a last checkpoint; the connection's own checkpoints come back on. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker || this.stopped) return;
    this.stopped = true;
    // Waited for with the thread referenced: an unreferenced one would let a process whose last
    // work is this wait exit before it ends (a command's top-level await left unsettled, exit 13).
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("stop");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 5_000);
    });
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await worker.terminate();
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  }
}
