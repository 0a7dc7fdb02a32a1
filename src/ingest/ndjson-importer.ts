/**
 * The NDJSON importer: streams conversation documents, one a line, into the store in batches.
 *
 * The input is cut into lines as it is read; the complete lines of each chunk are parsed,
 * validated and turned into records in one synchronous step (no await per line). Valid records
 * are written in batches, each batch one `putRecords` call and so one transaction, with the next
 * batch being prepared while one is written (or, with `writers`, several written at once, never
 * two naming the same conversation). A bad line is reported by its number and skipped; with
 * `strict`, every line is checked first and nothing is written unless all of them are good. A
 * line the checks accept and the database refuses rolls back its batch; the batch is then written
 * in halves until the refused line stands alone, so only that line is lost (and reported).
 */
import { addAbortSignal, type Readable } from "node:stream";
import type { ConversationRecord } from "../domain/conversation.js";
import { RecordsRefusedError, type UpsertOutcome } from "../store/store.js";
import { LineChecker } from "./line-checker.js";
import { LineSplitter } from "./line-splitter.js";
import type { BadLine, Line, LinesResult } from "./ndjson-check.js";
import { type NdjsonSource, spoolNdjson } from "./ndjson-source.js";

export type { BadLine } from "./ndjson-check.js";

const MIB = 1024 * 1024;

/** Where validated records go. `ConversationService` is one; each call must be one transaction. */
export interface RecordSink {
  putRecords(records: readonly ConversationRecord[]): Promise<UpsertOutcome[]>;
}

/** What the importer has done so far, for a progress display. */
export interface ImportProgress {
  /** `check`: the first pass of a strict import (nothing written yet); `write`: the loading pass. */
  phase: "check" | "write";
  lines: number;
  created: number;
  replaced: number;
  bad: number;
  bytesRead: number;
  /** Total input bytes, when known. */
  totalBytes: number | undefined;
}

/** How an import ended. */
export interface ImportSummary {
  created: number;
  replaced: number;
  /** Lines that could not be imported (with `strict`: the one that stopped the import). */
  bad: number;
  /** Empty lines, skipped. */
  blank: number;
  lines: number;
  seconds: number;
  /** Set when `strict` stopped at a bad line; nothing was written. */
  strictFailure: BadLine | undefined;
  /** Whether input that can be read only once was copied to a temporary file (deleted again at the end). */
  spooled: boolean;
}

/** Settings of one import. */
export interface ImportOptions {
  /** The largest line accepted, in bytes (config.limits.jsonBytes). */
  maxLineBytes: number;
  /**
   * Check every line first; any bad line stops the import before anything is written. (A line
   * the checks accept and the database refuses is found only when written: reported and skipped.)
   */
  strict?: boolean;
  /** Records per transaction (default 1000). */
  batchSize?: number;
  /** Document bytes per transaction, a cap for very large documents (default 64 MiB). */
  batchBytes?: number;
  /**
   * Called for each bad line: in line order, except that a line the database refuses is reported
   * when its batch is written (after later lines that failed their checks). Refused lines are
   * reported in line order among themselves, also with several writers.
   */
  onBadLine?: (bad: BadLine) => void;
  /**
   * Batches written at the same time (default 1), each its own `putRecords` call and transaction.
   * Worth more than 1 where the database does a write's work in a process of its own
   * (PostgreSQL). Batches in flight together never name the same conversation: a batch naming one
   * that an earlier batch still writes waits for it, so a later line still lands later.
   */
  writers?: number;
  /** Check lines in a worker thread (default: for inputs over 4 MiB or of unknown size). */
  worker?: boolean;
  /** Called up to ten times a second, and once at the end of each pass. */
  onProgress?: (progress: ImportProgress) => void;
  /**
   * Stops the import: reading ends, the batches being written (one per writer) finish, the
   * temporary copy of the input (if any) is deleted, and the import throws ImportInterrupted.
   */
  signal?: AbortSignal;
}

/**
 * An import stopped by an error it cannot step over (reading the input, writing to the database).
 * Its summary counts the conversations whose batches were committed, batches of other writers
 * that finished after the failure included.
 */
export class ImportInterrupted extends Error {
  constructor(
    readonly summary: ImportSummary,
    cause: unknown,
  ) {
    super(
      `stopped after ${summary.created + summary.replaced} conversations were written: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = "ImportInterrupted";
  }
}

/** Chunks of lines being checked ahead of the writer: enough to keep the checker busy during a write. */
const CHUNKS_AHEAD = 64;

/**
 * Reads the input and hands what each chunk's complete lines hold to `visit`, in line order.
 * Chunks are checked ahead by `checker` (in a worker when there is one) while `visit` writes.
 * Stops when `visit` returns false.
 */
async function forEachChunk(
  input: Readable,
  options: { maxLineBytes: number; buildRecords: boolean; checker: LineChecker; signal?: AbortSignal },
  visit: (result: LinesResult, bytesRead: number) => Promise<boolean> | boolean,
): Promise<boolean> {
  const splitter = new LineSplitter(options.maxLineBytes);
  let bytesRead = 0;
  let nextLine = 1;
  const ahead: { result: Promise<LinesResult>; bytesRead: number }[] = [];
  const check = (lines: Line[]) => {
    const result = options.checker.check(lines, nextLine, options.maxLineBytes, options.buildRecords);
    // Handled when its turn comes; until then a failure must not count as unhandled.
    result.catch(() => undefined);
    ahead.push({ result, bytesRead });
    nextLine += lines.length;
  };
  const visitOldest = async (): Promise<boolean> => {
    options.signal?.throwIfAborted();
    const oldest = ahead.shift();
    return oldest ? visit(await oldest.result, oldest.bytesRead) : true;
  };
  // An abort destroys the input, which ends the loop below with the abort's error.
  if (options.signal) addAbortSignal(options.signal, input);
  for await (const chunk of input) {
    const bytes: Uint8Array = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    bytesRead += bytes.length;
    const lines = splitter.push(bytes);
    if (lines.length > 0) check(lines);
    while (ahead.length > CHUNKS_AHEAD) if (!(await visitOldest())) return false;
  }
  const last = splitter.end();
  if (last.length > 0) check(last);
  while (ahead.length > 0) if (!(await visitOldest())) return false;
  return true;
}

/** A record and the line it came from. */
interface LineRecord {
  record: ConversationRecord;
  line: number;
}

/** The bad-line report of a line the database refused. */
function refusedLine(line: number, error: RecordsRefusedError): BadLine {
  const msg =
    `The database refused this conversation (${error.message}); the import went on without it. ` +
    "Fix the document and import this line again.";
  return { line, issues: [{ loc: ["line", line], msg, type: "database_refused" }] };
}

/**
 * Writes records in one transaction; when the database refuses the batch, writes each half the
 * same way, so good records are written in as few transactions as a bisection allows and each
 * refused record is handed to `refused` alone. Any other failure is thrown.
 */
async function writeSplitting(
  sink: RecordSink,
  entries: readonly LineRecord[],
  summary: ImportSummary,
  refused: (entry: LineRecord, error: RecordsRefusedError) => void,
): Promise<void> {
  let outcomes: UpsertOutcome[];
  try {
    outcomes = await sink.putRecords(entries.map((e) => e.record));
  } catch (error) {
    if (!(error instanceof RecordsRefusedError)) throw error;
    const [only] = entries;
    if (entries.length === 1 && only) return refused(only, error);
    const half = Math.ceil(entries.length / 2);
    await writeSplitting(sink, entries.slice(0, half), summary, refused);
    await writeSplitting(sink, entries.slice(half), summary, refused);
    return;
  }
  for (const outcome of outcomes) {
    if (outcome === "created") summary.created++;
    else summary.replaced++;
  }
}

/** Imports NDJSON conversations (one document a line, each with its `conversation_id`) into `sink`. */
export async function importNdjson(
  source: NdjsonSource,
  sink: RecordSink,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const { maxLineBytes, strict = false, batchSize = 1000, batchBytes = 64 * MIB } = options;
  const summary: ImportSummary = {
    created: 0,
    replaced: 0,
    bad: 0,
    blank: 0,
    lines: 0,
    seconds: 0,
    strictFailure: undefined,
    spooled: false,
  };
  let input = source;
  // A worker pays off for large inputs; a small file is checked faster in place.
  const checker = new LineChecker(options.worker ?? (source.size === undefined || source.size > 4 * MIB));

  let lastProgress = 0;
  let bytesRead = 0;
  const progress = (phase: ImportProgress["phase"], force: boolean) => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastProgress < 100)) return;
    lastProgress = now;
    const { lines, created, replaced, bad } = summary;
    options.onProgress({ phase, lines, created, replaced, bad, bytesRead, totalBytes: input.size });
  };

  let batch: LineRecord[] = [];
  let batchJsonBytes = 0;
  const writers = Math.max(1, Math.floor(options.writers ?? 1));
  /** Batches being written, each with the conversations it names. */
  let inFlight: { ids: Set<string>; done: Promise<void> }[] = [];
  let writeFailure: { error: unknown } | undefined;
  /**
   * The refused lines of each batch started and not yet reported, in batch (so line) order: a
   * batch's reports wait for the batches before it, so they come in line order with several writers.
   */
  const reports: { refused: BadLine[]; finished: boolean }[] = [];
  const report = () => {
    while (reports[0]?.finished) for (const bad of reports.shift()?.refused ?? []) options.onBadLine?.(bad);
  };
  const mustWait = (ids: Set<string>) =>
    inFlight.length >= writers || inFlight.some((w) => [...ids].some((id) => w.ids.has(id)));
  const flush = async () => {
    if (batch.length === 0) return;
    const entries = batch;
    batch = [];
    batchJsonBytes = 0;
    // Ids are compared as they are: no valid document's id holds U+0000 or a lone surrogate (see
    // unstorableIdReason), the only text a backend stores as another id's.
    const ids = new Set(entries.map((e) => e.record.index.conversationId));
    // The next batch is prepared while these are written; a batch naming a conversation that one
    // in flight names waits for it, so the later line is written last.
    while (inFlight.length > 0 && mustWait(ids)) await Promise.race(inFlight.map((w) => w.done));
    if (writeFailure) throw writeFailure.error;
    const reported = { refused: [] as BadLine[], finished: false };
    reports.push(reported);
    const refused = (entry: LineRecord, error: RecordsRefusedError) => {
      summary.bad++;
      reported.refused.push(refusedLine(entry.line, error));
    };
    const writing = {
      ids,
      done: writeSplitting(sink, entries, summary, refused)
        .catch((error: unknown) => {
          writeFailure ??= { error };
        })
        .finally(() => {
          inFlight = inFlight.filter((w) => w !== writing);
          reported.finished = true;
          report();
        }),
    };
    inFlight.push(writing);
  };
  const written = async () => {
    while (inFlight.length > 0) await Promise.all(inFlight.map((w) => w.done));
  };

  const { signal } = options;
  try {
    signal?.throwIfAborted();
    if (strict) {
      // A strict import reads its input twice; what can be read only once is copied first.
      if (!source.reopenable) {
        summary.spooled = true;
        input = await spoolNdjson(source, signal);
      }
      const allGood = await forEachChunk(
        input.open(),
        { maxLineBytes, buildRecords: false, checker, signal },
        (result, read) => {
          bytesRead = read;
          const first = result.bad[0];
          if (first) {
            summary.lines = first.line;
            summary.bad = 1;
            summary.strictFailure = first;
            options.onBadLine?.(first);
            return false;
          }
          summary.lines += result.valid + result.blank;
          progress("check", false);
          return true;
        },
      );
      if (!allGood) return summary;
      progress("check", true);
      summary.lines = 0;
      bytesRead = 0;
      lastProgress = 0;
    }

    const write = { maxLineBytes, buildRecords: true, checker, signal };
    await forEachChunk(input.open(), write, async (result, read) => {
      bytesRead = read;
      summary.lines += result.valid + result.blank + result.bad.length;
      summary.blank += result.blank;
      const firstBad = result.bad[0];
      if (firstBad && strict)
        throw new Error(`${input.name} changed during the import: line ${firstBad.line}`);
      for (const bad of result.bad) {
        summary.bad++;
        options.onBadLine?.(bad);
      }
      for (const [i, record] of result.records.entries()) {
        batch.push({ record, line: result.recordLines[i] ?? 0 });
        batchJsonBytes += record.json.length;
        if (batch.length >= batchSize || batchJsonBytes >= batchBytes) await flush();
      }
      progress("write", false);
      return true;
    });
    signal?.throwIfAborted();
    await flush();
    await written();
    if (writeFailure) throw writeFailure.error;
    progress("write", true);
    return summary;
  } catch (error) {
    await written();
    summary.seconds = (performance.now() - started) / 1000;
    throw new ImportInterrupted(summary, error);
  } finally {
    summary.seconds = (performance.now() - started) / 1000;
    await checker.close();
    if (input !== source) await input.close();
  }
}
