import path from "node:path";
import type { BlobStore } from "./blob-store.js";
import { FsBlobStore } from "./fs/fs-blob-store.js";

/**
 * Where the blobs live, as src/config/blob-config.ts resolves it (declared here too, so this
 * folder imports nothing of ours): the data dir's `blobs/`, or an S3 bucket under a prefix.
 */
export type BlobLocation =
  | { kind: "fs" }
  | {
      kind: "s3";
      bucket: string;
      prefix: string;
      forcePathStyle: boolean;
      requestTimeoutMs: number;
      connectionTimeoutMs: number;
      maxAttempts: number;
    };

/** The directory of the filesystem blob store under a data dir. */
export function fsBlobDir(dataDir: string): string {
  return path.join(dataDir, "blobs");
}

/**
 * Opens the configured blob store: files under `<dataDir>/blobs`, or the S3 bucket. The AWS SDK
 * is loaded only for S3, so a server or command on the filesystem never pays its start-up time.
 */
export async function openBlobStore(location: BlobLocation, dataDir: string): Promise<BlobStore> {
  if (location.kind === "fs") return new FsBlobStore(fsBlobDir(dataDir));
  const { S3BlobStore } = await import("./s3/s3-blob-store.js");
  return new S3BlobStore(location);
}
