import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { BadBackupLineError } from "../backup/backup-lines.js";
import { hasBackupManifest, MANIFEST_FILE, NotABackupError } from "../backup/backup-manifest.js";
import { type RestoreSummary, restoreBackup } from "../backup/backup-reader.js";
import { importAudioDirectory } from "../ingest/audio-files.js";
import { createImportDisplay, describeBadLine } from "../ingest/import-display.js";
import { ImportInterrupted, type ImportSummary, importNdjson } from "../ingest/ndjson-importer.js";
import { type NdjsonSource, ndjsonStreamSource, openNdjsonFile } from "../ingest/ndjson-source.js";
import {
  listenForStop,
  type StopListener,
  type StorageFlags,
  withServices,
  withStorageOptions,
} from "./cli-context.js";

/** Batches an import into PostgreSQL writes at once, each on its own connection. */
const IMPORT_WRITERS_POSTGRES = 2;

interface ImportFlags extends StorageFlags {
  strict?: boolean;
  audio?: string;
}

/** What an import stopped by a signal tells the user: what was written, what was cleaned up, how to go on. */
function describeStop(by: string, summary: ImportSummary, file: string): string {
  const written = summary.created + summary.replaced;
  const copy = summary.spooled ? "; its temporary copy of the input was deleted" : "";
  const done =
    written === 0
      ? "nothing was written"
      : `${written} conversations were written (lines up to ${summary.lines} read)`;
  const again = file === "-" ? "the same input" : file;
  return (
    `openconvai import: stopped by ${by}: ${done}${copy}. ` +
    `Import ${again} again to finish: conversations already written are replaced, not duplicated.`
  );
}

function describeSummary(summary: ImportSummary): string {
  const written = summary.created + summary.replaced;
  const rate = summary.seconds > 0 ? Math.round(written / summary.seconds) : written;
  const bad = `${summary.bad} bad line${summary.bad === 1 ? "" : "s"}`;
  return `openconvai import: ${summary.created} created, ${summary.replaced} replaced, ${bad}; ${summary.seconds.toFixed(2)} s, ${rate} conversations/s`;
}

/** `openconvai import FILE|-`: bulk-loads NDJSON conversations. */
export function registerImportCommand(program: Command): void {
  withStorageOptions(
    program
      .command("import")
      .description(
        "bulk-load conversations from NDJSON: one conversation document a line, in the shape GET returns, with its conversation_id",
      )
      .argument(
        "<file>",
        "an NDJSON file, - to read stdin, or a backup directory written by `openconvai export --backup`",
      )
      .option(
        "--strict",
        "check every line first; a bad line stops the import and nothing is written (stdin is copied to a temporary file first)",
      )
      .option(
        "--audio <dir>",
        "then load the recordings in this directory, as `openconvai export --audio` writes them (<conversation id>.mp3, …)",
      ),
  ).action(async (file: string, flags: ImportFlags) => {
    const stop = listenForStop();
    try {
      const isDirectory = file !== "-" && (await stat(file).catch(() => undefined))?.isDirectory();
      if (isDirectory) await runRestore(file, flags, stop);
      else await runImport(file, flags, stop);
    } finally {
      stop.dispose();
    }
  });
}

async function runImport(file: string, flags: ImportFlags, stop: StopListener) {
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
    async ({ config, db, conversations }) => {
      const display = createImportDisplay(process.stderr, source.size);
      let summary: ImportSummary;
      try {
        summary = await importNdjson(source, conversations, {
          maxLineBytes: config.limits.jsonBytes,
          strict: flags.strict === true,
          onBadLine: display.badLine,
          onProgress: display.progress,
          signal: stop.signal,
          // PostgreSQL does most of a write's work (the trigram index) in its own process: two
          // batches written at once use two server processes. SQLite writes in this thread.
          writers: db.kind === "postgres" ? IMPORT_WRITERS_POSTGRES : 1,
        });
      } catch (error) {
        display.stop();
        if (!(error instanceof ImportInterrupted)) throw error;
        const by = stop.stopped();
        if (by) {
          process.stderr.write(`${describeStop(by, error.summary, file)}\n`);
          process.exitCode = 130;
          return;
        }
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
          audio = await importAudioDirectory(flags.audio, conversations, { signal: stop.signal });
        } catch (error) {
          const by = stop.stopped();
          if (by) {
            process.stderr.write(
              `openconvai import: stopped by ${by} while loading recordings; run the same command again to load the rest.\n`,
            );
            process.exitCode = 130;
            return;
          }
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
}

function describeRestore(dir: string, r: RestoreSummary): string {
  const c = r.conversations;
  return (
    `openconvai import: restored ${dir}: ${c.created} conversations created, ${c.replaced} replaced, ${c.bad} bad lines; ` +
    `${r.audio.loaded} recordings, ${r.agents} agents, ${r.tags} tags, topics of ${r.topicAgents} agents, analysis settings of ${r.analysisSettings} agents, ` +
    `${r.files} files, SIP logs of ${r.sipConversations} conversations; ${r.seconds.toFixed(2)} s`
  );
}

/** `openconvai import DIR`: restores a backup directory (recognised by its manifest). */
async function runRestore(dir: string, flags: ImportFlags, stop: StopListener) {
  if (!(await hasBackupManifest(dir))) {
    process.stderr.write(
      `openconvai import: ${dir} is a directory without ${MANIFEST_FILE}, so not a backup; give an NDJSON file, or a directory written by \`openconvai export --backup\`.\n`,
    );
    process.exitCode = 2;
    return;
  }
  if (flags.audio !== undefined) {
    process.stderr.write("openconvai import: a backup brings its recordings; leave out --audio.\n");
    process.exitCode = 2;
    return;
  }
  await withServices(
    flags,
    async ({ config, db, blobs, conversations }) => {
      let step = "conversations";
      let summary: RestoreSummary;
      try {
        summary = await restoreBackup(
          dir,
          { db, blobs, conversations },
          {
            maxLineBytes: config.limits.jsonBytes,
            strict: flags.strict === true,
            onBadLine: (bad) => process.stderr.write(`conversations.ndjson ${describeBadLine(bad)}\n`),
            onStep: (s) => {
              step = s;
            },
            signal: stop.signal,
          },
        );
      } catch (error) {
        const by = stop.stopped();
        if (!by && error instanceof NotABackupError) {
          process.stderr.write(`openconvai import: ${error.message}\n`);
          process.exitCode = 2;
          return;
        }
        const reason = by ? `stopped by ${by}` : (error as Error).message;
        // A damaged or missing part of the backup is reported; anything else is a bug, shown whole.
        const known =
          by !== undefined ||
          error instanceof ImportInterrupted ||
          error instanceof BadBackupLineError ||
          (error as NodeJS.ErrnoException).code === "ENOENT";
        if (!known) throw error;
        process.stderr.write(
          `openconvai import: ${reason} while restoring ${step}; what was restored before stays. ` +
            `Import ${dir} again to finish: everything is restored by id, so nothing is duplicated.\n`,
        );
        process.exitCode = by ? 130 : 1;
        return;
      }
      for (const what of summary.withoutConversation) {
        process.stderr.write(`openconvai import: ${what}: no such conversation; not restored\n`);
      }
      for (const name of summary.audio.unknownConversation) {
        process.stderr.write(`openconvai import: audio/${name}: no such conversation; not loaded\n`);
      }
      if (summary.conversations.strictFailure) {
        process.stderr.write(
          `openconvai import: --strict: conversations.ndjson line ${summary.conversations.strictFailure.line} is bad, so nothing was restored.\n`,
        );
      }
      for (const mismatch of summary.mismatches) {
        process.stderr.write(`openconvai import: ${mismatch}\n`);
      }
      process.stderr.write(`${describeRestore(dir, summary)}\n`);
      if (summary.mismatches.length > 0) {
        process.stderr.write(
          `openconvai import: what was restored does not match ${dir}/${MANIFEST_FILE} (above); the backup is damaged or incomplete, or other writes happened meanwhile. Check the lines above, then import ${dir} again.\n`,
        );
      }
      const incomplete =
        summary.mismatches.length > 0 ||
        summary.conversations.bad > 0 ||
        summary.withoutConversation.length > 0 ||
        summary.audio.unknownConversation.length > 0;
      if (incomplete) process.exitCode = 1;
    },
    "bulk",
  );
}
