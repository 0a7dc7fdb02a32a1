import type { Readable } from "node:stream";
import type { BlobStore } from "./blob-store.js";

/** Where blobs are copied from: a store that can list what it holds (the filesystem store). */
export interface ListableBlobSource {
  list(): AsyncIterable<{ key: string; size: number }>;
  get(key: string): Promise<Readable | undefined>;
}

/** How far a migration is; `done` counts copied, skipped and failed blobs. */
export interface BlobMigrationProgress {
  total: number;
  totalBytes: number;
  done: number;
  copied: number;
  copiedBytes: number;
  /** Already in the target with the same size (an earlier run copied them). */
  skipped: number;
  /** Gone from the source between the listing and the copy (deleted meanwhile). */
  vanished: number;
  failed: number;
}

/** One blob that could not be copied, and why. */
export interface BlobMigrationFailure {
  key: string;
  error: Error;
}

/** What `migrateBlobs` is given. */
export interface BlobMigrationOptions {
  from: ListableBlobSource;
  to: BlobStore;
  /** Copies in flight at once. */
  concurrency: number;
  /** Aborted: no further copy starts; those in flight finish. */
  signal?: AbortSignal;
  onProgress?: (progress: BlobMigrationProgress) => void;
  onFailure?: (failure: BlobMigrationFailure) => void;
}

/**
 * Copies every blob of `from` into `to` under the same key. Resumable: a blob already in the
 * target with the same size is skipped, and each copy is a whole put (a failed one leaves
 * nothing), so running it again after an interruption finishes the job. A blob that fails is
 * reported and the rest go on.
 */
export async function migrateBlobs(options: BlobMigrationOptions): Promise<BlobMigrationProgress> {
  const blobs: { key: string; size: number }[] = [];
  for await (const blob of options.from.list()) blobs.push(blob);
  // Stable order: a re-run walks the blobs as the first run did.
  blobs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const progress: BlobMigrationProgress = {
    total: blobs.length,
    totalBytes: blobs.reduce((sum, blob) => sum + blob.size, 0),
    done: 0,
    copied: 0,
    copiedBytes: 0,
    skipped: 0,
    vanished: 0,
    failed: 0,
  };
  options.onProgress?.({ ...progress });
  let next = 0;
  const copyOne = async (blob: { key: string; size: number }) => {
    if ((await options.to.size(blob.key)) === blob.size) {
      progress.skipped++;
      return;
    }
    const body = await options.from.get(blob.key);
    if (!body) {
      progress.vanished++;
      return;
    }
    try {
      const written = await options.to.put(blob.key, body);
      progress.copied++;
      progress.copiedBytes += written;
    } finally {
      // Whatever the target did with it, the source's file is closed.
      body.destroy();
    }
  };
  const worker = async () => {
    while (next < blobs.length && !options.signal?.aborted) {
      const blob = blobs[next++] as { key: string; size: number };
      try {
        await copyOne(blob);
      } catch (error) {
        progress.failed++;
        options.onFailure?.({
          key: blob.key,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
      progress.done++;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return progress;
}
