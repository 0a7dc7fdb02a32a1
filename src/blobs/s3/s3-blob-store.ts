import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertBlobKey } from "../blob-keys.js";
import type { BlobStore, ByteRange } from "../blob-store.js";

// The SDK warns on every start under Node 20 (it plans to drop it); the pinned version supports
// Node 20, which package.json's engines allow, so the warning would only alarm operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** The smallest part S3 accepts, and the part size used: a body longer than this goes multipart. */
export const S3_PART_SIZE = 5 * 1024 * 1024;

/** Where and how an S3BlobStore keeps its blobs. */
export interface S3BlobStoreOptions {
  /** The bucket (it must exist). */
  bucket: string;
  /** Keys are stored as `<prefix>/<key>`; empty stores them at the bucket's root. No leading or trailing `/`. */
  prefix: string;
  /** Path-style addressing (`endpoint/bucket/key`), as MinIO, Ceph and s3rver want; virtual-hosted when false. */
  forcePathStyle: boolean;
  /** How long connecting may take, in milliseconds. */
  connectionTimeoutMs: number;
  /** How long a request may take until its answer starts, and a transfer may stall, in milliseconds. */
  requestTimeoutMs: number;
  /** Attempts per call, the first included (the SDK's retries with backoff). */
  maxAttempts: number;
  /**
   * Overrides of the SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
   * profiles, …); unset in production, set by tests that must not change process.env.
   */
  client?: {
    endpoint?: string;
    region?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  /** The multipart part size in bytes (default S3_PART_SIZE, which is also the least S3 allows). */
  partSize?: number;
}

/** The HTTP status of an SDK error, if it came from the service. */
function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** A stream of the body's buffers that counts the bytes going through into `counter`. */
function countBytes(body: Readable, counter: { bytes: number }): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        counter.bytes += buffer.length;
        yield buffer;
      }
    })(),
  );
}

/**
 * The bytes `range` names, from a stream of the object's bytes from `offset` on; reading stops
 * after the range's end.
 */
function sliceRange(sent: Readable, range: ByteRange, from: number): Readable {
  return Readable.from(
    (async function* () {
      let offset = from;
      for await (const chunk of sent) {
        const buffer = chunk as Buffer;
        const first = Math.max(range.start - offset, 0);
        const last = Math.min(range.end + 1 - offset, buffer.length);
        if (first < last) yield buffer.subarray(first, last);
        offset += buffer.length;
        if (offset > range.end) break;
      }
    })(),
  );
}

/**
 * Blobs as objects of an S3 bucket (AWS S3, or a compatible store: MinIO, R2, Ceph), under a
 * prefix. Endpoint, region and credentials come from the SDK's default chain unless `client`
 * overrides them. A put is one PutObject for a small body and a multipart upload for a large one,
 * completed only when every part is in (so a failed put leaves the previous object); a range read
 * asks for those bytes only. Every call has a timeout and a bounded number of attempts.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly partSize: number;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.partSize = options.partSize ?? S3_PART_SIZE;
    this.client = new S3Client({
      ...options.client,
      forcePathStyle: options.forcePathStyle,
      maxAttempts: options.maxAttempts,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs,
        requestTimeout: options.requestTimeoutMs,
        throwOnRequestTimeout: true,
        // A stalled transfer (a read streamed to a slow client aside, which pauses the socket) ends too.
        socketTimeout: options.requestTimeoutMs,
      },
    });
  }

  /** The bucket this store writes to, for messages. */
  get bucket(): string {
    return this.options.bucket;
  }

  /** `s3://bucket/prefix`, for messages (never credentials). */
  describe(): string {
    return `s3://${this.options.bucket}${this.options.prefix === "" ? "" : `/${this.options.prefix}`}`;
  }

  /** The object key of a blob key. */
  private objectKey(key: string): string {
    assertBlobKey(key);
    return this.options.prefix === "" ? key : `${this.options.prefix}/${key}`;
  }

  async put(key: string, body: Readable | Buffer): Promise<number> {
    const counter = { bytes: Buffer.isBuffer(body) ? body.length : 0 };
    const counted = Buffer.isBuffer(body) ? undefined : countBytes(body, counter);
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.options.bucket, Key: this.objectKey(key), Body: counted ?? body },
        partSize: this.partSize,
        queueSize: 2,
        // On failure the multipart upload is aborted: its parts are never an object, and are removed.
        leavePartsOnError: false,
      });
      await upload.done();
      return counter.bytes;
    } catch (error) {
      // What was not read is never read: the body (a file, a request) is let go of now.
      counted?.destroy();
      if (!Buffer.isBuffer(body)) body.destroy();
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      const body = answer.Body instanceof Readable ? answer.Body : Readable.from([]);
      if (!range) return body;
      // A server may ignore Range and send the whole object (HTTP allows it), or send more than
      // asked (s3rver reads `bytes=0-0` as `bytes=0-`): what was sent is cut down to the range.
      const sent = /^bytes (\d+)-(\d+)\//.exec(answer.ContentRange ?? "");
      const sentStart = sent ? Number(sent[1]) : 0;
      const sentEnd = sent ? Number(sent[2]) : Number.POSITIVE_INFINITY;
      return sentStart === range.start && sentEnd <= range.end ? body : sliceRange(body, range, sentStart);
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return undefined;
      // A range starting past the end: nothing to read, as a file read past its end gives.
      if (status === 416) return Readable.from([]);
      throw error;
    }
  }

  async size(key: string): Promise<number | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const answer = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: objectKey }),
      );
      return answer.ContentLength;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too.
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
    );
  }

  async checkReachable(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (error) {
      const status = statusOf(error);
      const reason =
        status === 404
          ? "the bucket does not exist: create it, or fix the bucket name in OPENCONVAI_BLOB_URL"
          : status === 403 || status === 401
            ? "access denied: check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket's policy"
            : `${(error as Error).message || (error as Error).name}: check the endpoint (AWS_ENDPOINT_URL_S3), the region (AWS_REGION) and the network`;
      throw new Error(`blob store ${this.describe()} cannot be reached: ${reason}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
