import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { type BackupDestination, prepareBackupDirectory } from "../backup/backup-destination.js";
import { type BackupSummary, writeBackup } from "../backup/backup-writer.js";
import { type ExportTarget, openExportTarget } from "../backup/export-target.js";
import { exportNdjson } from "../ingest/ndjson-exporter.js";
import { listenForStop, type StopListener, withServices, withStorageOptions } from "./cli-context.js";

interface ExportFlags {
  data?: string;
  databaseUrl?: string;
  out?: string;
  audio?: string;
  backup?: string;
}

/** A progress bar on a terminal (unless the export itself goes to that terminal). */
function createBar(total: number, toStdout: boolean): SingleBar | undefined {
  if (!process.stderr.isTTY || (toStdout && process.stdout.isTTY)) return undefined;
  const bar = new SingleBar({
    stream: process.stderr,
    format: "exporting [{bar}] {percentage}% | {value}/{total} conversations | ETA {eta_formatted}",
    clearOnComplete: true,
    gracefulExit: false,
  });
  bar.start(total, 0);
  return bar;
}

/** An error of the file system (a missing directory, no space, no permission, another device). */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  const e = error as NodeJS.ErrnoException | null;
  return typeof e?.code === "string" && typeof e.syscall === "string";
}

function describeBackup(dir: string, s: BackupSummary): string {
  const c = s.counts;
  return (
    `openconvai export: backup written to ${dir}: ${c.conversations} conversations, ${c.audio} recordings, ` +
    `${c.agents} agents, ${c.tags} tags, topics of ${c.topicAgents} agents, analysis settings of ${c.analysisSettings} agents, ` +
    `${c.files} files, ${c.sipMessages} SIP messages of ${c.sipConversations} conversations; ${s.seconds.toFixed(2)} s`
  );
}

/** `openconvai export [--out FILE|-] [--audio DIR]` or `--backup DIR`: NDJSON, or a whole backup. */
export function registerExportCommand(program: Command): void {
  withStorageOptions(
    program
      .command("export")
      .description(
        "write every conversation as NDJSON in the shape GET returns it (conversation_id order), or with --backup everything the server holds; `openconvai import` reads either back",
      )
      .option(
        "--out <file>",
        "the NDJSON file (a FIFO or device is written straight into), or - for stdout (default)",
      )
      .option("--audio <dir>", "also write each recording into this directory (<conversation id>.mp3, …)")
      .option(
        "--backup <dir>",
        "write a backup into this new (or empty) directory: conversations, recordings, agents, tags, topics, analysis settings, files, SIP logs (docs/ingest.md)",
      ),
  ).action(async (flags: ExportFlags) => {
    if (flags.backup !== undefined && (flags.out !== undefined || flags.audio !== undefined)) {
      process.stderr.write(
        "openconvai export: --backup writes conversations and recordings itself; give either --backup DIR or --out/--audio.\n",
      );
      process.exitCode = 2;
      return;
    }
    const stop = listenForStop();
    try {
      if (flags.backup !== undefined) await runBackup(flags, flags.backup, stop);
      else await runNdjsonExport(flags, flags.out ?? "-", stop);
    } finally {
      stop.dispose();
    }
  });
}

async function runBackup(flags: ExportFlags, dir: string, stop: StopListener): Promise<void> {
  await withServices(flags, async ({ db, blobs }) => {
    let destination: BackupDestination;
    try {
      destination = await prepareBackupDirectory(dir);
    } catch (error) {
      process.stderr.write(`openconvai export: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const total = await db.conversations.countConversations();
    const bar = createBar(total, false);
    let written = 0;
    try {
      const summary = await writeBackup(db, blobs, destination, {
        signal: stop.signal,
        onProgress: (n) => {
          written = n;
          bar?.update(n);
        },
      });
      bar?.stop();
      for (const id of summary.missingAudio) {
        process.stderr.write(
          `openconvai export: the audio of ${id} is missing from the blob store; skipped\n`,
        );
      }
      for (const id of summary.missingFiles) {
        process.stderr.write(
          `openconvai export: the bytes of file ${id} are missing from the blob store; skipped\n`,
        );
      }
      process.stderr.write(`${describeBackup(dir, summary)}\n`);
    } catch (error) {
      bar?.stop();
      const by = stop.stopped();
      const deleted = destination.inPlace
        ? `what was written into ${dir} was deleted`
        : `${destination.dir} was deleted and ${dir} was not written`;
      if (!by && isFileSystemError(error)) {
        process.stderr.write(
          `openconvai export: cannot write the backup into ${dir}: ${error.message}; ${deleted}. ` +
            "Free some space or fix the permissions (or give a directory elsewhere), then run the same command again.\n",
        );
        process.exitCode = 1;
        return;
      }
      if (!by) throw error;
      process.stderr.write(
        `openconvai export: stopped by ${by} after ${written} of ${total} conversations; ` +
          `${deleted}. Run the same command again to make the backup.\n`,
      );
      process.exitCode = 130;
    }
  });
}

async function runNdjsonExport(flags: ExportFlags, out: string, stop: StopListener): Promise<void> {
  let target: ExportTarget;
  try {
    target = await openExportTarget(out);
  } catch (error) {
    process.stderr.write(`openconvai export: cannot write ${out}: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  let written = 0;
  let total = 0;
  try {
    await withServices(flags, async ({ db, blobs }) => {
      total = await db.conversations.countConversations();
      const bar = createBar(total, out === "-");
      try {
        const summary = await exportNdjson(db.conversations, blobs, target.stream, {
          audioDir: flags.audio,
          signal: stop.signal,
          onProgress: (n) => {
            written = n;
            bar?.update(n);
          },
        });
        bar?.stop();
        await target.commit();
        for (const id of summary.missingAudio) {
          process.stderr.write(
            `openconvai export: the audio of ${id} is missing from the blob store; skipped\n`,
          );
        }
        const audio = flags.audio ? `, ${summary.audioFiles} audio files in ${flags.audio}` : "";
        process.stderr.write(
          `openconvai export: ${summary.conversations} conversations${audio}; ${summary.seconds.toFixed(2)} s\n`,
        );
      } finally {
        bar?.stop();
      }
    });
  } catch (error) {
    await target.abort();
    const by = stop.stopped();
    if (!by && isFileSystemError(error)) {
      process.stderr.write(
        `openconvai export: cannot write ${out}: ${error.message}. ` +
          "Check that its directory exists, is writable and has space, then run the same command again.\n",
      );
      process.exitCode = 1;
      return;
    }
    if (!by) throw error;
    const what = target.tempFile
      ? `${target.tempFile} was deleted and ${out} was not touched`
      : `what was written to ${target.name} is incomplete`;
    process.stderr.write(
      `openconvai export: stopped by ${by} after ${written} of ${total} conversations; ${what}. Run the same command again to export.\n`,
    );
    process.exitCode = 130;
  }
}
