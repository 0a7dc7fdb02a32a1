/** NDJSON files inside a backup: written from an async sequence of values, read back one value a line. */
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseJson } from "../conversations/parse-json.js";

/** Writes each value as one JSON line; returns how many were written. */
export async function writeBackupLines(
  file: string,
  values: AsyncIterable<unknown>,
  signal?: AbortSignal,
): Promise<number> {
  let count = 0;
  async function* lines() {
    for await (const value of values) {
      count++;
      yield `${JSON.stringify(value)}\n`;
    }
  }
  await pipeline(Readable.from(lines()), createWriteStream(file), signal ? { signal } : {});
  return count;
}

/** A line of a backup file that is not what it should be. */
export class BadBackupLineError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file} line ${line}: ${reason}`);
    this.name = "BadBackupLineError";
  }
}

/** Reads a non-empty string key of a backup line, or throws BadBackupLineError. */
export function lineText(file: string, line: number, value: Record<string, unknown>, key: string): string {
  const v = value[key];
  if (typeof v !== "string" || v === "") throw new BadBackupLineError(file, line, `${key} must be a string`);
  return v;
}

/** Reads a whole-number key of a backup line, or throws BadBackupLineError. */
export function lineWhole(file: string, line: number, value: Record<string, unknown>, key: string): number {
  const v = value[key];
  if (!Number.isSafeInteger(v)) throw new BadBackupLineError(file, line, `${key} must be a whole number`);
  return v as number;
}

/** Reads a backup NDJSON file as JSON objects, with their line numbers; blank lines are skipped. */
export async function* readBackupLines(
  file: string,
  signal?: AbortSignal,
): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  const input = createReadStream(file, signal ? { signal } : {});
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = parseJson(text);
      } catch (error) {
        throw new BadBackupLineError(file, line, (error as Error).message);
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new BadBackupLineError(file, line, "not a JSON object");
      }
      yield { line, value: value as Record<string, unknown> };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
