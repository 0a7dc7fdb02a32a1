import { ConfigError } from "./config-error.js";
import { readInteger } from "./env-values.js";

/** Where the blobs (recordings, uploaded files) live: the data dir's `blobs/`, or an S3 bucket. */
export type BlobConfig = FsBlobConfig | S3BlobConfig;

/** The default: files under `<data dir>/blobs`. */
export interface FsBlobConfig {
  kind: "fs";
}

/** OPENCONVAI_BLOB_URL=s3://bucket/prefix: objects of an S3 (or S3-compatible) bucket. */
export interface S3BlobConfig {
  kind: "s3";
  bucket: string;
  /** The key prefix, without a leading or trailing `/`; empty for the bucket's root. */
  prefix: string;
  /**
   * OPENCONVAI_S3_FORCE_PATH_STYLE: path-style addressing (`endpoint/bucket/key`). Default: on when
   * an endpoint is set (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL: MinIO, Ceph, R2, s3rver), off for AWS.
   */
  forcePathStyle: boolean;
  /** OPENCONVAI_S3_TIMEOUT_SECS: how long a request may take until answered, or a transfer stall (default 30). */
  requestTimeoutMs: number;
  /** How long connecting may take (5 s). */
  connectionTimeoutMs: number;
  /** OPENCONVAI_S3_MAX_ATTEMPTS: attempts per call, the first included, with backoff (default 3). */
  maxAttempts: number;
}

const USAGE =
  "set OPENCONVAI_BLOB_URL to s3://bucket or s3://bucket/prefix for an S3 bucket, or leave it unset for files under the data dir";

/** An S3 bucket name: 3 to 63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseBoolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw.slice(0, 40)}".`);
}

/**
 * Reads `s3://bucket/prefix` into its bucket and prefix; any other value is a ConfigError that
 * says what to set. Exported for `openconvai blobs migrate --to`, which takes the same URL.
 */
export function parseS3Url(name: string, raw: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(raw.trim());
  if (!match) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
    const got = scheme ? `a ${scheme}: URL` : `"${raw.slice(0, 100)}"`;
    throw new ConfigError(`${name} must be an s3:// URL (s3://bucket/prefix), got ${got}: ${USAGE}.`);
  }
  const bucket = match[1] ?? "";
  if (!BUCKET_NAME.test(bucket)) {
    throw new ConfigError(
      `${name}: "${bucket.slice(0, 80)}" is not a bucket name (3 to 63 lower-case letters, digits, dots and dashes): ${USAGE}.`,
    );
  }
  const prefix = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix !== "" && prefix.split("/").some((segment) => segment === "" || /^\.{1,2}$/.test(segment))) {
    throw new ConfigError(
      `${name}: the prefix "${prefix.slice(0, 100)}" has an empty, "." or ".." segment: use a plain path such as s3://${bucket}/openconvai/blobs.`,
    );
  }
  return { bucket, prefix };
}

/** Reads OPENCONVAI_BLOB_URL and the S3 settings that go with it. */
export function resolveBlobConfig(env: Record<string, string | undefined>): BlobConfig {
  const raw = env.OPENCONVAI_BLOB_URL;
  if (raw === undefined || raw.trim() === "") return { kind: "fs" };
  const { bucket, prefix } = parseS3Url("OPENCONVAI_BLOB_URL", raw);
  const pathStyle = env.OPENCONVAI_S3_FORCE_PATH_STYLE;
  const endpointSet = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  return {
    kind: "s3",
    bucket,
    prefix,
    forcePathStyle:
      pathStyle === undefined || pathStyle === ""
        ? endpointSet
        : parseBoolean("OPENCONVAI_S3_FORCE_PATH_STYLE", pathStyle),
    requestTimeoutMs:
      1000 *
      readInteger("OPENCONVAI_S3_TIMEOUT_SECS", env.OPENCONVAI_S3_TIMEOUT_SECS || undefined, 30, 1, 3600),
    connectionTimeoutMs: 5000,
    maxAttempts: readInteger(
      "OPENCONVAI_S3_MAX_ATTEMPTS",
      env.OPENCONVAI_S3_MAX_ATTEMPTS || undefined,
      3,
      1,
      10,
    ),
  };
}

/** Where the blobs are, for a start-up line: `s3://bucket/prefix`, or the data dir (they are in its `blobs/`). */
export function describeBlobLocation(blobs: BlobConfig, dataDir: string): string {
  if (blobs.kind === "fs") return dataDir;
  return `s3://${blobs.bucket}${blobs.prefix === "" ? "" : `/${blobs.prefix}`}`;
}
