import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { finished } from "node:stream/promises";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { exportNdjson } from "../ingest/ndjson-exporter.js";
import { withServices, withStorageOptions } from "./cli-context.js";

/** `openconvai export [--out FILE|-] [--audio DIR]`: every conversation as NDJSON, plus the recordings. */
export function registerExportCommand(program: Command): void {
  withStorageOptions(
    program
      .command("export")
      .description(
        "write every conversation as NDJSON in the shape GET returns it (conversation_id order); `openconvai import` reads it back",
      )
      .option("--out <file>", "the NDJSON file, or - for stdout", "-")
      .option("--audio <dir>", "also write each recording into this directory (<conversation id>.mp3, …)"),
  ).action(async (flags: { data?: string; databaseUrl?: string; out: string; audio?: string }) =>
    withServices(flags, async ({ db, blobs }) => {
      const toStdout = flags.out === "-";
      // A file is written under a temporary name and renamed at the end, so it is never half there.
      const temp = `${flags.out}.partial`;
      const out = toStdout ? process.stdout : createWriteStream(temp);
      const total = await db.conversations.countConversations();
      const bar =
        process.stderr.isTTY && !(toStdout && process.stdout.isTTY)
          ? new SingleBar({
              stream: process.stderr,
              format: "exporting [{bar}] {percentage}% | {value}/{total} conversations | ETA {eta_formatted}",
              clearOnComplete: true,
              gracefulExit: false,
            })
          : undefined;
      bar?.start(total, 0);
      try {
        const summary = await exportNdjson(db.conversations, blobs, out, {
          audioDir: flags.audio,
          onProgress: (n) => bar?.update(n),
        });
        bar?.stop();
        if (!toStdout) {
          out.end();
          await finished(out);
          await rename(temp, flags.out);
        }
        for (const id of summary.missingAudio) {
          process.stderr.write(
            `openconvai export: the audio of ${id} is missing from the blob store; skipped\n`,
          );
        }
        const audio = flags.audio ? `, ${summary.audioFiles} audio files in ${flags.audio}` : "";
        process.stderr.write(
          `openconvai export: ${summary.conversations} conversations${audio}; ${summary.seconds.toFixed(2)} s\n`,
        );
      } catch (error) {
        bar?.stop();
        if (!toStdout) {
          out.destroy();
          await rm(temp, { force: true });
        }
        throw error;
      }
    }),
  );
}
