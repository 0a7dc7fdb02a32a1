import cliProgress from "cli-progress";
import { type Command, InvalidArgumentError, Option } from "commander";
import { FsBlobStore } from "../blobs/fs/fs-blob-store.js";
import { type BlobMigrationProgress, migrateBlobs } from "../blobs/migrate-blobs.js";
import { fsBlobDir, openBlobStore } from "../blobs/open-blob-store.js";
import { resolveBlobConfig } from "../config/blob-config.js";
import { resolveConfig } from "../config/config.js";
import { ConfigError } from "../config/config-error.js";
import { listenForStop } from "./cli-context.js";

interface MigrateFlags {
  data?: string;
  to?: string;
  concurrency: number;
}

/** `--concurrency`: 1 to 64 copies at once, or a usage error (exit 2). */
function parseConcurrency(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("must be 1 to 64.");
  return n;
}

/** Bytes for people: `12.3 MiB`. */
function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The counts of a migration, as the progress lines and the summary say them. */
function describeCounts(p: BlobMigrationProgress): string {
  const vanished = p.vanished > 0 ? `, ${p.vanished} deleted meanwhile` : "";
  return `${p.copied} copied (${formatBytes(p.copiedBytes)}), ${p.skipped} already there${vanished}, ${p.failed} failed`;
}

/** What the command shows while it copies: a bar on a terminal, a line every few seconds otherwise. */
interface MigrateDisplay {
  update(progress: BlobMigrationProgress): void;
  log(line: string): void;
  stop(): void;
}

const BAR_FORMAT =
  "copying blobs [{bar}] {value}/{total} | {copied} copied, {skipped} already there, {failed} failed | ETA {eta_formatted}";

/** How often a progress line is printed when the output is not a terminal. */
const LINE_INTERVAL_MS = 5000;

function createMigrateDisplay(stream: NodeJS.WriteStream): MigrateDisplay {
  if (!stream.isTTY) {
    let lastLine = Date.now();
    return {
      update: (p) => {
        const now = Date.now();
        if (p.done === 0 || p.done === p.total || now - lastLine < LINE_INTERVAL_MS) return;
        lastLine = now;
        stream.write(`openconvai blobs migrate: ${p.done}/${p.total}: ${describeCounts(p)}\n`);
      },
      log: (line) => void stream.write(`${line}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar({
    stream,
    format: BAR_FORMAT,
    fps: 5,
    clearOnComplete: true,
    gracefulExit: false,
  });
  let started = false;
  return {
    update: (p) => {
      const payload = { copied: p.copied, skipped: p.skipped, failed: p.failed };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else bar.update(p.done, payload);
    },
    // Printed above the bar, which is drawn again below it.
    log: (line) => {
      if (started) {
        bar.stop();
        stream.write(`${line}\n`);
        started = false;
      } else stream.write(`${line}\n`);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** `openconvai blobs migrate`: copies the data dir's blobs into the bucket OPENCONVAI_BLOB_URL will name. */
async function runMigrate(flags: MigrateFlags): Promise<void> {
  const prefix = "openconvai blobs migrate";
  const config = resolveConfig({ data: flags.data });
  const url = flags.to ?? process.env.OPENCONVAI_BLOB_URL;
  if (url === undefined || url === "") {
    process.stderr.write(
      `${prefix}: --to is required: pass the bucket to copy into, e.g. --to s3://my-bucket/openconvai\n`,
    );
    process.exitCode = 2;
    return;
  }
  let target: ReturnType<typeof resolveBlobConfig>;
  try {
    target = resolveBlobConfig({ ...process.env, OPENCONVAI_BLOB_URL: url });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${prefix}: ${error.message.replace("OPENCONVAI_BLOB_URL", "--to")}\n`);
    process.exitCode = 2;
    return;
  }
  const source = new FsBlobStore(fsBlobDir(config.dataDir));
  const to = await openBlobStore(target, config.dataDir);
  try {
    await to.checkReachable();
  } catch (error) {
    process.stderr.write(`${prefix}: ${(error as Error).message}. Nothing was copied.\n`);
    process.exitCode = 2;
    return;
  }
  const where = `${fsBlobDir(config.dataDir)} to ${url}`;
  const display = createMigrateDisplay(process.stderr);
  const stop = listenForStop();
  let failures = 0;
  try {
    process.stderr.write(`${prefix}: copying the blobs of ${where}\n`);
    const summary = await migrateBlobs({
      from: source,
      to,
      concurrency: flags.concurrency,
      signal: stop.signal,
      onProgress: (p) => display.update(p),
      onFailure: ({ key, error }) => {
        failures++;
        // The key names a conversation's folder, not its content; the error says what S3 said.
        if (failures <= 20) display.log(`${prefix}: could not copy ${key}: ${error.message}`);
      },
    });
    display.stop();
    const totals = `${summary.total} blobs (${formatBytes(summary.totalBytes)}): ${describeCounts(summary)}`;
    const by = stop.stopped();
    if (by) {
      process.stderr.write(
        `${prefix}: stopped by ${by} after ${summary.done} of ${totals}. Run the same command again to copy the rest.\n`,
      );
      process.exitCode = 130;
    } else if (summary.failed > 0) {
      process.stderr.write(
        `${prefix}: ${totals}. Fix what the errors above say, then run the same command again: what was copied is skipped.\n`,
      );
      process.exitCode = 1;
    } else {
      process.stderr.write(
        `${prefix}: done, ${totals}.\n` +
          `Now set OPENCONVAI_BLOB_URL=${url} (with the same AWS settings) for every server and command, and restart them. ` +
          `Blobs written to ${fsBlobDir(config.dataDir)} until then are copied by running this command again; ` +
          "keep the directory until the servers run on the bucket.\n",
      );
    }
  } finally {
    display.stop();
    stop.dispose();
    if ("close" in to && typeof to.close === "function") to.close();
  }
}

/** Registers `openconvai blobs` (`migrate`). */
export function registerBlobsCommand(program: Command): void {
  const blobs = program.command("blobs").description("manage the blob store (recordings, uploaded files)");
  blobs
    .command("migrate")
    .description(
      "copy the blobs under the data dir into an S3 bucket (resumable: what is already there is skipped); then set OPENCONVAI_BLOB_URL",
    )
    .addOption(new Option("--data <dir>", "data directory whose blobs/ is copied").env("OPENCONVAI_DATA"))
    .addOption(
      new Option("--to <url>", "the bucket to copy into, s3://bucket/prefix (default OPENCONVAI_BLOB_URL)"),
    )
    .addOption(
      new Option("--concurrency <n>", "copies at once (1 to 64)").default(4).argParser(parseConcurrency),
    )
    .action(runMigrate);
}
