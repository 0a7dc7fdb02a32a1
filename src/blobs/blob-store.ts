import type { Readable } from "node:stream";

/** A byte range, inclusive at both ends, as HTTP Range uses it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where audio and uploaded files live: keyed bytes. The filesystem (fs/) and S3 (s3/) implement it.
 * Keys come from blob-keys.ts; every method rejects a key `assertBlobKey` refuses
 * (InvalidBlobKeyError). test/blob-contract.test.ts holds every implementation to this.
 */
export interface BlobStore {
  /**
   * Stores the bytes under the key, replacing what was there, and returns the size. The write is
   * atomic: a failed put leaves the previous blob (or none) and nothing half-written, and destroys
   * a stream body (so a file or request it reads from is let go of).
   */
  put(key: string, body: Readable | Buffer): Promise<number>;
  /**
   * Reads the bytes (or a range of them); undefined if there is no such blob. A blob deleted after
   * `get` resolves still streams whole: the stream holds what it opened.
   */
  get(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /** The size in bytes of the blob as stored; undefined if there is no such blob. */
  size(key: string): Promise<number | undefined>;
  /** Removes the blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Resolves when the store can be reached and written to (for readiness checks); otherwise
   * rejects with a message that names the store and what to fix.
   */
  checkReachable(): Promise<void>;
  /** Lets go of what the store holds open (the S3 client's connections); the store is not used after. */
  close?(): Promise<void>;
}
