/**
 * What `openconvai import` shows while it loads NDJSON: a progress bar on a terminal (lines,
 * conversations written, rate, bad lines), and each bad line as one line of text.
 */
import { MultiBar } from "cli-progress";
import type { BadLine, ImportProgress } from "./ndjson-importer.js";

/** Renders a bad line as one line of text: its number, then each issue's location and message. */
export function describeBadLine(bad: BadLine): string {
  const issues = bad.issues.map((issue) => {
    const where = issue.loc.slice(2).join(".");
    return where ? `${where}: ${issue.msg}` : issue.msg;
  });
  return `line ${bad.line}: ${issues.join("; ")}`;
}

/** Where progress and bad lines go: a progress bar on a terminal, only the bad lines otherwise. */
export interface ImportDisplay {
  badLine(bad: BadLine): void;
  progress(progress: ImportProgress): void;
  stop(): void;
}

/** Shows an import on `stream`: a progress bar when it is a terminal (over `totalBytes` when known), else only the bad lines. */
export function createImportDisplay(
  stream: NodeJS.WriteStream,
  totalBytes: number | undefined,
): ImportDisplay {
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
