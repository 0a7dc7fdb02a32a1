/**
 * NDJSON input for the importer: a file, which a strict import can read twice, or a stream that
 * can be read once (stdin), copied to a temporary file when it must be read twice.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

const MIB = 1024 * 1024;

/** NDJSON input: a file, or a stream that can be read once (stdin). */
export interface NdjsonSource {
  /** How messages name the input. */
  readonly name: string;
  /** Total bytes, when known (for progress). */
  readonly size: number | undefined;
  /** Whether `open` may be called more than once: a regular file can be read twice, a pipe cannot. */
  readonly reopenable: boolean;
  /** Opens the input from its start. */
  open(): Readable;
  /** Releases what the source holds. */
  close(): Promise<void>;
}

/** Opens an NDJSON file. A regular file is read twice by a strict import; a named pipe is copied first. */
export async function openNdjsonFile(file: string): Promise<NdjsonSource> {
  const info = await stat(file);
  if (info.isDirectory()) throw new Error(`${file} is a directory`);
  const regular = info.isFile();
  return {
    name: file,
    size: regular ? info.size : undefined,
    reopenable: regular,
    open: () => createReadStream(file, { highWaterMark: MIB }),
    close: async () => {},
  };
}

/** Wraps a stream that can be read once (stdin) as a source. */
export function ndjsonStreamSource(stream: Readable, name = "stdin"): NdjsonSource {
  let opened = false;
  return {
    name,
    size: undefined,
    reopenable: false,
    open: () => {
      if (opened) throw new Error(`${name} can be read only once`);
      opened = true;
      return stream;
    },
    close: async () => {},
  };
}

/**
 * Copies a source that can be read only once into a temporary file, which the copy's `close`
 * deletes. An abort (or any failure) while copying deletes the copy before the error is thrown.
 */
export async function spoolNdjson(source: NdjsonSource, signal?: AbortSignal): Promise<NdjsonSource> {
  const dir = await mkdtemp(path.join(tmpdir(), "openconvai-import-"));
  const file = path.join(dir, "input.ndjson");
  try {
    await pipeline(source.open(), createWriteStream(file), signal ? { signal } : {});
    const spooled = await openNdjsonFile(file);
    return { ...spooled, name: source.name, close: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
