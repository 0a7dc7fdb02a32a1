/**
 * Where `openconvai export --out` writes. A regular file (new or existing) is written under a
 * temporary name beside it and renamed over it at the end, so it is never half there; a FIFO, a
 * character device or a socket is written straight into, never replaced; a symbolic link is
 * followed, so what it points at is written and the link stays.
 */
import { createWriteStream } from "node:fs";
import { chmod, lstat, readlink, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";

/** An open export output. */
export interface ExportTarget {
  readonly stream: Writable;
  /** The path as given (`stdout` for `-`), for messages. */
  readonly name: string;
  /** The temporary file being written, when the target is a regular file; renamed by `commit`. */
  readonly tempFile: string | undefined;
  /** Ends the stream and, for a regular file, renames the temporary file into place. */
  commit(): Promise<void>;
  /** Stops writing and deletes the temporary file, leaving the target as it was. */
  abort(): Promise<void>;
}

/** The most symbolic links followed, as the kernel's limit. */
const MAX_LINKS = 40;

/** Follows symbolic links to the path they end at (which may not exist yet). */
export async function resolveLinks(file: string): Promise<string> {
  let current = path.resolve(file);
  for (let i = 0; i < MAX_LINKS; i++) {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return current;
      throw error;
    }
    if (!info.isSymbolicLink()) return current;
    current = path.resolve(path.dirname(current), await readlink(current));
  }
  throw new Error(`${file}: too many levels of symbolic links`);
}

/** Waits until a stream has closed its file (an error there was already reported or does not matter). */
async function closed(stream: Writable): Promise<void> {
  if (stream.closed) return;
  await finished(stream).catch(() => undefined);
}

/** Stdout as an export target. */
function stdoutTarget(): ExportTarget {
  return {
    stream: process.stdout,
    name: "stdout",
    tempFile: undefined,
    commit: async () => {},
    abort: async () => {},
  };
}

/** Keeps a write error for the next write (`writeOutput` fails with it) or `commit`, rather than crashing the process. */
function keepErrors(stream: Writable): Writable {
  stream.on("error", () => undefined);
  return stream;
}

/** Opens the output of an export: `-` is stdout, anything else a path (see the module comment). */
export async function openExportTarget(out: string): Promise<ExportTarget> {
  if (out === "-") return stdoutTarget();
  const target = await resolveLinks(out);
  const info = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (info?.isDirectory()) {
    throw new Error(
      `${out} is a directory; give a file for NDJSON, or use --backup ${out} to write a backup directory`,
    );
  }
  if (info && !info.isFile()) {
    // A FIFO or a device: written straight into, since renaming over it would replace it.
    const stream = keepErrors(createWriteStream(target, { flags: "w" }));
    return {
      stream,
      name: out,
      tempFile: undefined,
      commit: async () => {
        stream.end();
        await finished(stream);
      },
      abort: async () => {
        stream.destroy();
      },
    };
  }
  const tempFile = `${target}.partial`;
  const stream = keepErrors(createWriteStream(tempFile));
  return {
    stream,
    name: out,
    tempFile,
    commit: async () => {
      stream.end();
      await finished(stream);
      // A file that was there keeps its permissions.
      if (info) await chmod(tempFile, info.mode & 0o7777);
      await rename(tempFile, target);
    },
    abort: async () => {
      stream.destroy();
      // The file may still be being opened: removed only once the stream let go of it.
      await closed(stream);
      await rm(tempFile, { force: true });
    },
  };
}
