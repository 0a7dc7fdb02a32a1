import type { Readable } from "node:stream";
import type { BlobStore, ByteRange } from "../blobs/blob-store.js";

/** A blob operation, as the `operation` label names it. */
export type BlobOperation = "put" | "get" | "size" | "delete";

/** How it ended: `missing` when a get or size found no blob. */
export type BlobResult = "ok" | "missing" | "error";

/** Told of each operation: which, how it ended, and how long it took in seconds. */
export type BlobOperationObserver = (operation: BlobOperation, result: BlobResult, seconds: number) => void;

/**
 * A BlobStore that times the operations of the one it wraps, whatever it is (filesystem, S3). A
 * `get` is timed until its stream is open, not until the stream is read (that is the reader's
 * pace). The reachability check and `close` are passed through uncounted.
 */
export class MetricsBlobStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly observe: BlobOperationObserver,
  ) {}

  put(key: string, body: Readable | Buffer): Promise<number> {
    return this.timed("put", this.inner.put(key, body));
  }

  get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    return this.timed("get", this.inner.get(key, range));
  }

  size(key: string): Promise<number | undefined> {
    return this.timed("size", this.inner.size(key));
  }

  delete(key: string): Promise<void> {
    return this.timed("delete", this.inner.delete(key), false);
  }

  checkReachable(): Promise<void> {
    return this.inner.checkReachable();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** Observes `operation` when `pending` settles; undefined is `missing` where `canMiss`. */
  private async timed<T>(operation: BlobOperation, pending: Promise<T>, canMiss = true): Promise<T> {
    const started = performance.now();
    try {
      const value = await pending;
      this.observe(operation, canMiss && value === undefined ? "missing" : "ok", elapsed(started));
      return value;
    } catch (error) {
      this.observe(operation, "error", elapsed(started));
      throw error;
    }
  }
}

/** Seconds since `started` (a `performance.now()`). */
function elapsed(started: number): number {
  return (performance.now() - started) / 1000;
}
