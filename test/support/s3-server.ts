/**
 * A local S3 (s3rver) for tests: the blob contract, `blobs migrate`, and servers spawned on S3.
 */

import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import type { S3BlobStoreOptions } from "../../src/blobs/s3/s3-blob-store.js";

// As src/blobs/s3/ does: the SDK's Node 20 deprecation notice is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** One request the server answered: what the tests check range reads and multipart uploads by. */
export interface S3Request {
  method: string;
  /** The path, `/bucket/key…`, decoded. */
  path: string;
  query: URLSearchParams;
  /** The Range header, if any. */
  range: string | undefined;
  /** The status and Content-Length of the answer (set once it is sent). */
  status?: number;
  contentLength?: number;
}

/** A running s3rver with one bucket. */
export interface S3TestServer {
  /** `s3://<bucket>/<prefix>`: what OPENCONVAI_BLOB_URL is set to. */
  url: string;
  bucket: string;
  prefix: string;
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /**
   * Everything a process needs to use this server as its blob store, complete: hand it to
   * `spawnServer(storage, { env })` or `runCli(args, { env })` as it is.
   *
   *   OPENCONVAI_BLOB_URL=s3://<bucket>/<prefix>
   *   AWS_ENDPOINT_URL_S3=http://127.0.0.1:<port>     (the SDK's service-specific endpoint setting)
   *   AWS_ENDPOINT_URL=http://127.0.0.1:<port>        (the same, for anything reading the generic one)
   *   OPENCONVAI_S3_FORCE_PATH_STYLE=true             (s3rver serves path-style; also the default with an endpoint)
   *   AWS_ACCESS_KEY_ID=S3RVER  AWS_SECRET_ACCESS_KEY=S3RVER   (s3rver's fixed credentials)
   *   AWS_REGION=us-east-1  AWS_DEFAULT_REGION=us-east-1
   *   AWS_EC2_METADATA_DISABLED=true                  (never ask an instance metadata service)
   *   AWS_PROFILE / AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE: not set here; the keys above win
   */
  env: Record<string, string>;
  /** The same endpoint, region and credentials for an S3BlobStore's `client` option (in-process tests). */
  client: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Every request answered so far, oldest first; empty it with `requests.length = 0`. */
  requests: S3Request[];
  /** Every object key in the bucket under `under` (default: all), sorted. */
  listKeys(under?: string): Promise<string[]>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/** The bucket every test server has: 3 to 63 characters, as S3 requires. */
export const TEST_BUCKET = "openconvai-test";

/**
 * Starts s3rver on 127.0.0.1, on a free port, storing in a fresh temporary directory, with the
 * bucket TEST_BUCKET made; `prefix` (default `blobs`) is the key prefix the URL names.
 */
export async function startS3Server(options: { prefix?: string } = {}): Promise<S3TestServer> {
  const prefix = options.prefix ?? "blobs";
  const directory = await mkdtemp(path.join(tmpdir(), "openconvai-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: TEST_BUCKET }],
  });
  const { port } = await server.run();
  const requests: S3Request[] = [];
  // Ahead of s3rver's own handler: it sees every request, and its answer once sent.
  server.httpServer.prependListener("request", (req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "http://s3rver");
    const request: S3Request = {
      method: req.method ?? "",
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      range: req.headers.range,
    };
    requests.push(request);
    res.once("finish", () => {
      request.status = res.statusCode;
      const length = res.getHeader("content-length");
      if (length !== undefined) request.contentLength = Number(length);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const lister = new S3Client({ endpoint, region: "us-east-1", credentials, forcePathStyle: true });
  return {
    url: `s3://${TEST_BUCKET}/${prefix}`,
    bucket: TEST_BUCKET,
    prefix,
    endpoint,
    env: {
      OPENCONVAI_BLOB_URL: `s3://${TEST_BUCKET}/${prefix}`,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL: endpoint,
      OPENCONVAI_S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    client: { endpoint, region: "us-east-1", credentials },
    requests,
    listKeys: async (under = "") => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await lister.send(
          new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: under, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    close: async () => {
      lister.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * S3BlobStore options for an in-process store on the test server (its endpoint and keys passed
 * directly, process.env untouched): short timeouts, one retry, the default (least) part size.
 */
export function s3StoreOptions(server: S3TestServer, bucket: string, prefix: string): S3BlobStoreOptions {
  return {
    bucket,
    prefix,
    forcePathStyle: true,
    connectionTimeoutMs: 2000,
    requestTimeoutMs: 10_000,
    maxAttempts: 2,
    client: server.client,
  };
}
