import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createSyncDisplay } from "../src/cli/sync-command.js";
import type { SyncProgress } from "../src/sync/sync-conversations.js";

/** A stream that says it is a terminal, keeping what is written to it. */
function fakeTerminal() {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 160 });
  let written = "";
  stream.on("data", (d: Buffer) => {
    written += d.toString();
  });
  return {
    stream,
    /** The last line drawn, without the terminal's escape codes. */
    lastLine: () => {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape codes are stripped on purpose
      const plain = written.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, "\n");
      return (
        plain
          .split(/[\r\n]/)
          .map((l) => l.trim())
          .filter((l) => l.startsWith("syncing"))
          .at(-1) ?? ""
      );
    },
  };
}

const progress = (p: Partial<SyncProgress>): SyncProgress => ({
  listed: 0,
  done: 0,
  fetched: 0,
  skipped: 0,
  audioFetched: 0,
  failed: 0,
  listComplete: false,
  ...p,
});

describe("sync progress on a terminal", () => {
  it("shows counts without a total or ETA while the list is still being walked, then the total", () => {
    const terminal = fakeTerminal();
    let clock = 0;
    const display = createSyncDisplay(terminal.stream, undefined, () => clock);
    try {
      // Page after page: nearly everything listed so far is done, but the end is not in sight.
      clock = 1_000;
      display.update(progress({ listed: 100, done: 60, fetched: 60 }));
      display.redraw();
      clock = 2_000;
      display.update(progress({ listed: 200, done: 190, fetched: 180, skipped: 10 }));
      display.redraw();
      const counting = terminal.lastLine();
      expect(counting).toBe("syncing 190 done, 200 listed so far | 95/s | 180 fetched, 10 here, 0 failed");

      // The end of the list: now the total is known, and so is the ETA.
      clock = 4_000;
      display.update(progress({ listed: 250, done: 200, fetched: 190, skipped: 10, listComplete: true }));
      display.redraw();
      expect(terminal.lastLine()).toMatch(
        /^syncing \[[^\]]+\] 200\/250 \| 50\/s \| 190 fetched, 10 here, 0 failed \| ETA \S+/,
      );
    } finally {
      display.stop();
    }
  });
});
