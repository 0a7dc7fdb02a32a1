import { Worker } from "node:worker_threads";
import { checkLines, type Line, type LinesResult } from "./ndjson-check.js";
import type { CheckRequest } from "./ndjson-check-worker.js";

/**
 * Checks runs of NDJSON lines in a worker thread, so that parsing and validating the next
 * lines overlaps with the (synchronous) database writes on the importer's thread. Falls back
 * to checking in place when no worker can be started. Results come back in request order.
 */
export class LineChecker {
  private readonly worker: Worker | undefined;
  private readonly waiting = new Map<
    number,
    { resolve: (r: LinesResult) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;

  constructor(useWorker: boolean) {
    this.worker = useWorker ? startWorker() : undefined;
    this.worker?.on("message", ({ id, result }: { id: number; result: LinesResult }) => {
      this.waiting.get(id)?.resolve(result);
      this.waiting.delete(id);
    });
    this.worker?.on("error", (error) => {
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    });
  }

  /** Whether lines are checked in a worker thread (else in place). */
  get inWorker(): boolean {
    return this.worker !== undefined;
  }

  /** Checks lines numbered from `firstLine`. */
  check(lines: Line[], firstLine: number, maxLineBytes: number, buildRecords: boolean): Promise<LinesResult> {
    if (!this.worker) return Promise.resolve(checkLines(lines, firstLine, maxLineBytes, buildRecords));
    const id = this.nextId++;
    // Each line gets a buffer of its own, handed over without a copy (a view into a read chunk
    // would take the whole chunk with it).
    const owned = lines.map((line) => (line === null ? null : new Uint8Array(line)));
    const request: CheckRequest = { id, lines: owned, firstLine, maxLineBytes, buildRecords };
    const transfer = owned.flatMap((line) => (line ? [line.buffer as ArrayBuffer] : []));
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker?.postMessage(request, transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}

/**
 * Starts the worker from the compiled .js; from the .ts sources (tests, `node --import tsx`) a
 * small bootstrap registers tsx in the worker first, since loader flags do not reach workers.
 */
function startWorker(): Worker | undefined {
  const fromSource = import.meta.url.endsWith(".ts");
  try {
    if (!fromSource) return new Worker(new URL("./ndjson-check-worker.js", import.meta.url));
    const entry = new URL("./ndjson-check-worker.ts", import.meta.url).href;
    const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(bootstrap, { eval: true });
  } catch {
    return undefined;
  }
}
