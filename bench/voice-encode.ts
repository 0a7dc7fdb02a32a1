/**
 * The recording-encode measurement of the voice scenario: bench/recording-encode.ts for a 5-minute
 * call, run in its own process (so the scenario's client does not disturb its event loop), and the
 * figures read from what it prints.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { EncodeFigures } from "./voice-report.js";

const ENCODE_TIMEOUT_MS = 120_000;

/** Runs bench/recording-encode.ts for a 5-minute call in its own process and reads its figures. */
export async function measureEncode(root: string): Promise<EncodeFigures | string> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", path.join(root, "bench", "recording-encode.ts"), "--minutes", "5"],
      { cwd: root, timeout: ENCODE_TIMEOUT_MS },
    );
    const figure = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1] ?? Number.NaN);
    const figures = {
      cpuMs: figure(/process CPU over the encode:\s+([\d.]+) ms/),
      encodeMs: figure(/worker mix \+ encode time:\s+([\d.]+) ms/),
      loopMaxMs: figure(/main loop delay, encoding:\s+max ([\d.]+) ms/),
      idleLoopMaxMs: figure(/main loop delay, idle as long:\s+max ([\d.]+) ms/),
    };
    return Object.values(figures).some(Number.isNaN) ? `unexpected output: ${stdout.slice(0, 300)}` : figures;
  } catch (error) {
    return `bench/recording-encode.ts failed: ${(error as Error).message.slice(0, 300)}`;
  }
}
