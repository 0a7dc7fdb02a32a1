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

/** Lets the bar redraw (it draws five times a second). */
const redraw = () => new Promise((resolve) => setTimeout(resolve, 450));

describe("sync progress on a terminal", () => {
  it("shows counts without a total or ETA while the list is still being walked, then the total", async () => {
    const terminal = fakeTerminal();
    const display = createSyncDisplay(terminal.stream);
    try {
      // Page after page: nearly everything listed so far is done, but the end is not in sight.
      display.update(progress({ listed: 100, done: 60, fetched: 60 }));
      await redraw();
      display.update(progress({ listed: 200, done: 190, fetched: 180, skipped: 10 }));
      await redraw();
      const counting = terminal.lastLine();
      expect(counting).toMatch(
        /^syncing 190 done, 200 listed so far \| \d+\/s \| 180 fetched, 10 here, 0 failed$/,
      );
      expect(counting).not.toMatch(/ETA|%|\/200|\[/);

      // The end of the list: now the total is known, and so is the ETA.
      display.update(progress({ listed: 250, done: 200, fetched: 190, skipped: 10, listComplete: true }));
      await redraw();
      expect(terminal.lastLine()).toMatch(
        /^syncing \[[^\]]+\] 200\/250 \| \d+\/s \| 190 fetched, 10 here, 0 failed \| ETA \S+/,
      );
    } finally {
      display.stop();
    }
  });
});
