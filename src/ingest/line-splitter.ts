import type { Line } from "./ndjson-check.js";

const NEWLINE = 0x0a;

/** Cuts a byte stream into lines; a line over the limit is dropped as it streams, never held whole. */
export class LineSplitter {
  /** The unfinished line: its pieces so far, or `skipping` once it is over the limit. */
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private skipping = false;

  constructor(private readonly maxLineBytes: number) {}

  /** Feeds the next chunk; returns the lines it completed. */
  push(chunk: Uint8Array): Line[] {
    const lines: Line[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.skipping && this.partialBytes + (end - pos) > this.maxLineBytes) {
        this.skipping = true;
        this.partial = [];
        this.partialBytes = 0;
      }
      if (nl === -1) {
        if (!this.skipping) {
          this.partial.push(chunk.subarray(pos));
          this.partialBytes += chunk.length - pos;
        }
        break;
      }
      lines.push(this.finishLine(chunk.subarray(pos, nl)));
      pos = nl + 1;
    }
    return lines;
  }

  /** Ends the input; returns its last line when it had no newline. */
  end(): Line[] {
    return this.skipping || this.partialBytes > 0 ? [this.finishLine(new Uint8Array(0))] : [];
  }

  private finishLine(tail: Uint8Array): Line {
    const line = this.skipping
      ? null
      : this.partial.length > 0
        ? Buffer.concat([...this.partial, tail])
        : tail;
    this.partial = [];
    this.partialBytes = 0;
    this.skipping = false;
    return line;
  }
}
