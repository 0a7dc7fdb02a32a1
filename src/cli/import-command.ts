import { MultiBar } from "cli-progress";
import type { Command } from "commander";
import { importAudioDirectory } from "../ingest/audio-files.js";
import {
  type BadLine,
  ImportInterrupted,
  type ImportProgress,
  type ImportSummary,
  importNdjson,
} from "../ingest/ndjson-importer.js";
import { type NdjsonSource, ndjsonStreamSource, openNdjsonFile } from "../ingest/ndjson-source.js";
import { withServices, withStorageOptions } from "./cli-context.js";

/** Renders a bad line as one line of text: its number, then each issue's location and message. */
function describeBadLine(bad: BadLine): string {
  const issues = bad.issues.map((issue) => {
    const where = issue.loc.slice(2).join(".");
    return where ? `${where}: ${issue.msg}` : issue.msg;
  });
  return `line ${bad.line}: ${issues.join("; ")}`;
}

function describeSummary(summary: ImportSummary): string {
  const written = summary.created + summary.replaced;
  const rate = summary.seconds > 0 ? Math.round(written / summary.seconds) : written;
  const bad = `${summary.bad} bad line${summary.bad === 1 ? "" : "s"}`;
  return `openconvai import: ${summary.created} created, ${summary.replaced} replaced, ${bad}; ${summary.seconds.toFixed(2)} s, ${rate} conversations/s`;
}

/** Where progress and bad lines go: a progress bar on a terminal, only the bad lines otherwise. */
interface ImportDisplay {
  badLine(bad: BadLine): void;
  progress(progress: ImportProgress): void;
  stop(): void;
}

function createImportDisplay(stream: NodeJS.WriteStream, totalBytes: number | undefined): ImportDisplay {
  if (!stream.isTTY) {
    return {
      badLine: (bad) => stream.write(`${describeBadLine(bad)}\n`),
      progress: () => {},
      stop: () => {},
    };
  }
  let phaseStarted = performance.now();
  const counts = "{lines} lines | {written} conversations | {rate}/s | {bad} bad";
  const bars = new MultiBar({
    stream,
    format: totalBytes
      ? `{phase} [{bar}] {percentage}% | ${counts} | ETA {eta_formatted}`
      : `{phase} ${counts}`,
    fps: 10,
    hideCursor: false,
    clearOnComplete: true,
    // Ctrl-C should stop the import, not just the bar.
    gracefulExit: false,
  });
  const payload = { phase: "importing", lines: 0, written: 0, rate: 0, bad: 0 };
  const bar = bars.create(totalBytes ?? 0, 0, payload);
  let phase: ImportProgress["phase"] | undefined;
  return {
    badLine: (bad) => bars.log(`${describeBadLine(bad)}\n`),
    progress: (p) => {
      if (p.phase !== phase) {
        // The loading pass of a strict import starts the bar (and its rate) again.
        if (phase !== undefined) phaseStarted = performance.now();
        phase = p.phase;
        bar.start(totalBytes ?? 0, 0, payload);
      }
      const seconds = (performance.now() - phaseStarted) / 1000;
      const written = p.created + p.replaced;
      bar.update(p.bytesRead, {
        phase: p.phase === "check" ? "checking" : "importing",
        lines: p.lines,
        written,
        rate: seconds >= 0.2 ? Math.round((p.phase === "check" ? p.lines : written) / seconds) : 0,
        bad: p.bad,
      });
    },
    stop: () => {
      bars.update(); // writes out bad lines still waiting in the bar's log buffer
      bars.stop();
    },
  };
}

/** `openconvai import FILE|-`: bulk-loads NDJSON conversations. */
export function registerImportCommand(program: Command): void {
  withStorageOptions(
    program
      .command("import")
      .description(
        "bulk-load conversations from NDJSON: one conversation document a line, in the shape GET returns, with its conversation_id",
      )
      .argument("<file>", "an NDJSON file, or - to read stdin")
      .option(
        "--strict",
        "check every line first; a bad line stops the import and nothing is written (stdin is copied to a temporary file first)",
      )
      .option(
        "--audio <dir>",
        "then load the recordings in this directory, as `openconvai export --audio` writes them (<conversation id>.mp3, …)",
      ),
  ).action(
    async (
      file: string,
      flags: { data?: string; databaseUrl?: string; strict?: boolean; audio?: string },
    ) => {
      let source: NdjsonSource;
      try {
        source = file === "-" ? ndjsonStreamSource(process.stdin) : await openNdjsonFile(file);
      } catch (error) {
        process.stderr.write(`openconvai import: cannot read ${file}: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      if (file === "-" && process.stdin.isTTY) {
        process.stderr.write("Reading NDJSON from the terminal; end with Ctrl-D.\n");
      }
      await withServices(
        flags,
        async ({ config, conversations }) => {
          const display = createImportDisplay(process.stderr, source.size);
          let summary: ImportSummary;
          try {
            summary = await importNdjson(source, conversations, {
              maxLineBytes: config.limits.jsonBytes,
              strict: flags.strict === true,
              onBadLine: display.badLine,
              onProgress: display.progress,
            });
          } catch (error) {
            display.stop();
            if (!(error instanceof ImportInterrupted)) throw error;
            process.stderr.write(`openconvai import: ${error.message}\n${describeSummary(error.summary)}\n`);
            process.exitCode = 1;
            return;
          } finally {
            await source.close();
          }
          display.stop();
          if (summary.strictFailure) {
            process.stderr.write(
              `openconvai import: --strict: line ${summary.strictFailure.line} is bad, so nothing was written.\n`,
            );
          }
          process.stderr.write(`${describeSummary(summary)}\n`);
          if (summary.bad > 0) process.exitCode = 1;
          if (flags.audio !== undefined && !summary.strictFailure) {
            let audio: Awaited<ReturnType<typeof importAudioDirectory>>;
            try {
              audio = await importAudioDirectory(flags.audio, conversations);
            } catch (error) {
              process.stderr.write(
                `openconvai import: cannot read ${flags.audio}: ${(error as Error).message}\n`,
              );
              process.exitCode = 2;
              return;
            }
            for (const name of audio.unknownConversation) {
              process.stderr.write(`openconvai import: ${name}: no such conversation; not loaded\n`);
            }
            for (const name of audio.skipped) {
              process.stderr.write(
                `openconvai import: ${name}: not a recording file (<conversation id>.mp3, …); skipped\n`,
              );
            }
            process.stderr.write(
              `openconvai import: ${audio.loaded} recordings loaded from ${flags.audio}, ${audio.unknownConversation.length} without a conversation\n`,
            );
            if (audio.unknownConversation.length > 0) process.exitCode = 1;
          }
        },
        "bulk",
      );
    },
  );
}
