import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { describeDelay, HttpConversationSource } from "../sync/http-conversation-source.js";
import { type SyncProgress, type SyncSummary, syncConversations } from "../sync/sync-conversations.js";
import { withServices, withStorageOptions } from "./cli-context.js";

interface SyncFlags {
  data?: string;
  databaseUrl?: string;
  from?: string;
  apiKey?: string;
  agentId?: string;
  since?: string;
  concurrency: string;
  audio?: boolean;
  dryRun?: boolean;
  full?: boolean;
  watch?: string | true;
}

/** Reads --since: unix seconds, or a date (ISO 8601). */
function parseSince(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms))
    throw new Error(`--since must be unix seconds or a date such as 2025-01-31, got "${raw}"`);
  return Math.floor(ms / 1000);
}

function parseWhole(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new Error(`${name} must be ${min} to ${max}, got "${raw}"`);
  return n;
}

function describeSummary(s: SyncSummary, dryRun: boolean): string {
  const fetched = dryRun ? `${s.fetched} to fetch` : `${s.fetched} fetched`;
  const audio =
    s.audioFetched + s.audioMissing > 0
      ? `, ${s.audioFetched} recordings (${s.audioMissing} not available)`
      : "";
  const mark = s.markAfter === null ? "none" : new Date(s.markAfter * 1000).toISOString();
  return `openconvai sync: ${s.listed} listed, ${fetched}, ${s.skipped} already here${audio}, ${s.failed} failed; mark ${mark}; ${s.seconds.toFixed(1)} s`;
}

/** The progress line while the list is still being walked: counts only, no total to be near. */
const COUNTING_FORMAT =
  "syncing {value} done, {listed} listed so far | {rate}/s | {fetched} fetched, {skipped} here, {failed} failed";
/** The progress line once the whole list is known: a bar, the total and an ETA. */
const TOTAL_FORMAT =
  "syncing [{bar}] {value}/{total} | {rate}/s | {fetched} fetched, {skipped} here, {failed} failed | ETA {eta_formatted}";

/** What the command shows while a run goes on. */
export interface SyncDisplay {
  update(progress: SyncProgress): void;
  /** Prints a line above the progress bar. */
  log(line: string): void;
  /** Draws the line now rather than at the next of its five redraws a second. */
  redraw(): void;
  stop(): void;
}

/**
 * A progress display on a terminal, nothing otherwise (lines from `log` are still printed). Until
 * the end of the list is reached the total is unknown, so it shows counts; then a bar and an ETA.
 * `stamp` prefixes each logged line (a timestamp under --watch); `now` (milliseconds) times the rate.
 */
export function createSyncDisplay(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  stamp: (line: string) => string = (line) => line,
  now: () => number = () => performance.now(),
): SyncDisplay {
  if (!stream.isTTY)
    return {
      update: () => {},
      log: (line) => void stream.write(`${stamp(line)}\n`),
      redraw: () => {},
      stop: () => {},
    };
  const started = now();
  const bars = new cliProgress.MultiBar({
    stream: stream as NodeJS.WritableStream,
    format: (options, params, payload) =>
      cliProgress.Format.Formatter(
        { ...options, format: payload.listComplete ? TOTAL_FORMAT : COUNTING_FORMAT },
        params,
        payload,
      ),
    fps: 5,
    clearOnComplete: true,
    gracefulExit: false,
  });
  const payload = { listComplete: false, listed: 0, rate: 0, fetched: 0, skipped: 0, failed: 0 };
  const bar = bars.create(0, 0, payload);
  return {
    update: (p) => {
      const seconds = (now() - started) / 1000;
      // The total is set once, when it is known: a total that grows page by page looks finished.
      if (p.listComplete) bar.setTotal(p.listed);
      bar.update(p.done, {
        listComplete: p.listComplete,
        listed: p.listed,
        rate: seconds > 0.5 ? Math.round(p.done / seconds) : 0,
        fetched: p.fetched,
        skipped: p.skipped,
        failed: p.failed,
      });
    },
    log: (line) => bars.log(`${stamp(line)}\n`),
    redraw: () => bars.update(),
    stop: () => {
      bars.update();
      bars.stop();
    },
  };
}

/** Reads --from: the source's http(s) base URL. The value is not echoed: it may hold credentials. */
function parseFrom(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "")
    throw new Error(
      "--from is required: pass the source API's base URL, e.g. --from https://api.elevenlabs.io (or another openconvai's URL)",
    );
  let protocol: string;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    protocol = "";
  }
  if (protocol !== "http:" && protocol !== "https:")
    throw new Error("--from must be an http(s) base URL, e.g. --from https://api.elevenlabs.io");
  return raw;
}

/** What a stopped command says: what was done, and how to go on. */
function describeStopped(
  current: SyncProgress | undefined,
  last: SyncSummary | undefined,
  dryRun: boolean,
): string {
  const resume = "Run the same command again to resume.";
  if (current) {
    const fetched = dryRun ? `${current.fetched} to fetch` : `${current.fetched} fetched`;
    return `openconvai sync: stopped during a run: ${current.listed} listed, ${fetched}, ${current.skipped} already here, ${current.failed} failed; what was stored is kept, the mark did not move. ${resume}`;
  }
  const mark = last?.markAfter == null ? "none" : new Date(last.markAfter * 1000).toISOString();
  return `openconvai sync: stopped between runs; mark ${mark}. ${resume}`;
}

/** Waits for the next --watch run; resolves early when the signal aborts. */
function waitForNextRun(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** `openconvai sync --from URL --api-key KEY`: mirrors conversations from an ElevenLabs-compatible API. */
export function registerSyncCommand(program: Command): void {
  withStorageOptions(
    program
      .command("sync")
      .description(
        "mirror conversations from the ElevenLabs API (or another openconvai): incremental, resumable, upserts by conversation_id",
      )
      // Checked by the command, not by commander: a missing --from is a one-line usage error, exit 2.
      .option("--from <url>", "the API's base URL, e.g. https://api.elevenlabs.io (required)")
      .addOption(new Option("--api-key <key>", "the source's API key (xi-api-key)").env("ELEVENLABS_API_KEY"))
      .option("--agent-id <id>", "only this agent's conversations")
      .option("--since <when>", "only conversations that started at or after this (unix seconds or a date)")
      .option("--concurrency <n>", "conversations fetched at once", "8")
      .option("--audio", "fetch the recordings too")
      .option("--dry-run", "list and count what would be fetched; write nothing")
      .option("--full", "ignore the high-water mark and fetch every listed conversation again")
      .option("--watch [seconds]", "keep running, syncing again every N seconds (default 60)"),
  ).action(async (flags: SyncFlags) => {
    let from: string;
    let since: number | undefined;
    let concurrency: number;
    let watchSecs: number | undefined;
    try {
      from = parseFrom(flags.from);
      if (!flags.apiKey) throw new Error("--api-key (or ELEVENLABS_API_KEY) is required");
      since = flags.since === undefined ? undefined : parseSince(flags.since);
      concurrency = parseWhole("--concurrency", flags.concurrency, 1, 64);
      if (flags.watch !== undefined) {
        watchSecs = flags.watch === true ? 60 : parseWhole("--watch", flags.watch, 1, 86_400);
      }
    } catch (error) {
      process.stderr.write(`openconvai sync: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const dryRun = flags.dryRun === true;
    // Under --watch the command runs for days: every line says when it was written.
    const stamp = (line: string) => (watchSecs === undefined ? line : `${new Date().toISOString()} ${line}`);
    const say = (line: string) => process.stderr.write(`${stamp(line)}\n`);
    const controller = new AbortController();
    const stop = () => controller.abort(new Error("stopped"));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await withServices(flags, async ({ db, conversations }) => {
      let display = createSyncDisplay(process.stderr, stamp);
      let current: SyncProgress | undefined;
      let last: SyncSummary | undefined;
      const source = new HttpConversationSource({
        baseUrl: from,
        apiKey: flags.apiKey as string,
        onRetry: ({ path, attempt, delayMs, reason }) => {
          if (attempt >= 3) display.log(`retrying GET ${path} in ${describeDelay(delayMs)}: ${reason}`);
        },
      });
      try {
        for (let run = 0; ; run++) {
          if (run > 0) display = createSyncDisplay(process.stderr, stamp);
          // Set while a run is under way: what it has done so far (nothing yet until it lists a page).
          current = {
            listed: 0,
            done: 0,
            fetched: 0,
            skipped: 0,
            audioFetched: 0,
            failed: 0,
            listComplete: false,
          };
          try {
            last = await syncConversations({
              source,
              db,
              conversations,
              agentId: flags.agentId,
              sinceUnixSecs: since,
              audio: flags.audio === true,
              concurrency,
              dryRun,
              // --watch runs after the first are incremental.
              full: flags.full === true && run === 0,
              signal: controller.signal,
              onProgress: (p) => {
                current = p;
                display.update(p);
              },
              onFailure: (id, message) => display.log(`${id}: ${message}`),
            });
            current = undefined;
            display.stop();
            say(describeSummary(last, dryRun));
            if (last.failed > 0) {
              say(
                "Some conversations could not be stored, so the mark did not move; run again to retry them.",
              );
              process.exitCode = 1;
            }
          } catch (error) {
            display.stop();
            if (controller.signal.aborted) break;
            current = undefined;
            say(`openconvai sync: ${(error as Error).message}`);
            process.exitCode = 1;
            // A watching sync waits and tries again; a single run stops here.
            if (watchSecs === undefined) return;
          }
          if (watchSecs === undefined || dryRun || controller.signal.aborted) break;
          await waitForNextRun(watchSecs, controller.signal);
          if (controller.signal.aborted) break;
        }
        // Stopped by Ctrl-C or SIGTERM, during a run or between two: the same answer either way.
        if (controller.signal.aborted) {
          say(describeStopped(current, last, dryRun));
          process.exitCode = 130;
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
  });
}
