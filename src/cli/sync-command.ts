import { MultiBar } from "cli-progress";
import { type Command, Option } from "commander";
import { HttpConversationSource } from "../sync/http-conversation-source.js";
import { type SyncProgress, type SyncSummary, syncConversations } from "../sync/sync-conversations.js";
import { withServices, withStorageOptions } from "./cli-context.js";

interface SyncFlags {
  data?: string;
  databaseUrl?: string;
  from: string;
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

/** A progress bar on a terminal (count, rate, ETA); nothing otherwise. */
function createSyncDisplay(stream: NodeJS.WriteStream) {
  if (!stream.isTTY)
    return {
      update: (_p: SyncProgress) => {},
      log: (line: string) => stream.write(`${line}\n`),
      stop: () => {},
    };
  const started = performance.now();
  const bars = new MultiBar({
    stream,
    format:
      "syncing [{bar}] {value}/{total}{more} | {rate}/s | {fetched} fetched, {skipped} here, {failed} failed | ETA {eta_formatted}",
    fps: 5,
    clearOnComplete: true,
    gracefulExit: false,
  });
  const bar = bars.create(0, 0, { more: "+", rate: 0, fetched: 0, skipped: 0, failed: 0 });
  return {
    update: (p: SyncProgress) => {
      const seconds = (performance.now() - started) / 1000;
      bar.setTotal(p.listed);
      bar.update(p.done, {
        more: p.listComplete ? "" : "+",
        rate: seconds > 0.5 ? Math.round(p.done / seconds) : 0,
        fetched: p.fetched,
        skipped: p.skipped,
        failed: p.failed,
      });
    },
    log: (line: string) => bars.log(`${line}\n`),
    stop: () => {
      bars.update();
      bars.stop();
    },
  };
}

/** `openconvai sync --from URL --api-key KEY`: mirrors conversations from an ElevenLabs-compatible API. */
export function registerSyncCommand(program: Command): void {
  withStorageOptions(
    program
      .command("sync")
      .description(
        "mirror conversations from the ElevenLabs API (or another openconvai): incremental, resumable, upserts by conversation_id",
      )
      .requiredOption("--from <url>", "the API's base URL, e.g. https://api.elevenlabs.io")
      .addOption(new Option("--api-key <key>", "the source's API key (xi-api-key)").env("ELEVENLABS_API_KEY"))
      .option("--agent-id <id>", "only this agent's conversations")
      .option("--since <when>", "only conversations that started at or after this (unix seconds or a date)")
      .option("--concurrency <n>", "conversations fetched at once", "8")
      .option("--audio", "fetch the recordings too")
      .option("--dry-run", "list and count what would be fetched; write nothing")
      .option("--full", "ignore the high-water mark and fetch every listed conversation again")
      .option("--watch [seconds]", "keep running, syncing again every N seconds (default 60)"),
  ).action(async (flags: SyncFlags) => {
    let since: number | undefined;
    let concurrency: number;
    let watchSecs: number | undefined;
    try {
      if (!flags.apiKey) throw new Error("--api-key (or ELEVENLABS_API_KEY) is required");
      new URL(flags.from);
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
    const controller = new AbortController();
    const stop = () => controller.abort(new Error("stopped"));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await withServices(flags, async ({ db, conversations }) => {
      let display = createSyncDisplay(process.stderr);
      const source = new HttpConversationSource({
        baseUrl: flags.from,
        apiKey: flags.apiKey as string,
        onRetry: ({ path, attempt, delayMs, reason }) => {
          if (attempt >= 3)
            display.log(`retrying GET ${path} in ${(delayMs / 1000).toFixed(1)} s: ${reason}`);
        },
      });
      try {
        for (let run = 0; ; run++) {
          if (run > 0) display = createSyncDisplay(process.stderr);
          try {
            const summary = await syncConversations({
              source,
              db,
              conversations,
              agentId: flags.agentId,
              sinceUnixSecs: since,
              audio: flags.audio === true,
              concurrency,
              dryRun: flags.dryRun === true,
              // --watch runs after the first are incremental.
              full: flags.full === true && run === 0,
              signal: controller.signal,
              onProgress: display.update,
              onFailure: (id, message) => display.log(`${id}: ${message}`),
            });
            display.stop();
            process.stderr.write(`${describeSummary(summary, flags.dryRun === true)}\n`);
            if (summary.failed > 0) {
              process.stderr.write(
                "Some conversations could not be stored, so the mark did not move; run again to retry them.\n",
              );
              process.exitCode = 1;
            }
          } catch (error) {
            display.stop();
            if (controller.signal.aborted) throw error;
            process.stderr.write(`openconvai sync: ${(error as Error).message}\n`);
            process.exitCode = 1;
            // A watching sync waits and tries again; a single run stops here.
            if (watchSecs === undefined) return;
          }
          if (watchSecs === undefined || flags.dryRun) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, (watchSecs as number) * 1000);
            controller.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (controller.signal.aborted) break;
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
        process.stderr.write("openconvai sync: stopped. Run the same command again to resume.\n");
        process.exitCode = 130;
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
  });
}
