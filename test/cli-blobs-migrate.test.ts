import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore } from "../src/blobs/fs/fs-blob-store.js";
import { S3BlobStore } from "../src/blobs/s3/s3-blob-store.js";
import { runCli } from "./support/run-cli.js";
import { type S3TestServer, s3StoreOptions, startS3Server } from "./support/s3-server.js";

async function readAll(stream: Readable | undefined): Promise<Buffer | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The blobs the data dir holds before the migration. */
const BLOBS: Record<string, Buffer> = {
  "audio/0a1b/rec-1": Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256)),
  "audio/0a1b/user-2": Buffer.from("the user's track"),
  "files/conv_1/file_a": Buffer.from("an uploaded file"),
  "files/conv_1/empty": Buffer.alloc(0),
};

describe("openconvai blobs migrate", () => {
  let server: S3TestServer;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startS3Server({ prefix: "migrated" });
    // The bucket is named by --to; the rest of the server's environment (endpoint, keys, region) is used as is.
    const { OPENCONVAI_BLOB_URL: _url, ...rest } = server.env;
    env = rest;
    dataDir = await mkdtemp(path.join(tmpdir(), "openconvai-migrate-"));
    const fs = new FsBlobStore(path.join(dataDir, "blobs"));
    for (const [key, bytes] of Object.entries(BLOBS)) await fs.put(key, bytes);
    // A put in progress (its temporary file) is not a blob and is not copied.
    await writeFile(
      path.join(dataDir, "blobs", "audio", "0a1b", "rec-3.0f8fad5b-d9cb-469f-a165-70867728950e.tmp"),
      "half",
    );
  });

  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const migrate = (...extra: string[]) =>
    runCli(["blobs", "migrate", "--data", dataDir, "--to", server.url, ...extra], { env });

  it("copies every blob, then copies nothing again, and resumes what is missing", async () => {
    const first = await migrate();
    expect(first.stderr).toContain("done, 4 blobs");
    expect(first.stderr).toContain("4 copied");
    expect(first.stderr).toContain(`set OPENCONVAI_BLOB_URL=${server.url}`);
    expect(first.code).toBe(0);
    expect(await server.listKeys()).toEqual(
      Object.keys(BLOBS)
        .map((key) => `migrated/${key}`)
        .sort(),
    );

    const store = new S3BlobStore(s3StoreOptions(server, server.bucket, "migrated"));
    try {
      for (const [key, bytes] of Object.entries(BLOBS)) {
        expect((await readAll(await store.get(key)))?.equals(bytes)).toBe(true);
      }

      server.requests.length = 0;
      const again = await migrate();
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("0 copied (0 B), 4 already there, 0 failed");
      expect(server.requests.filter((r) => r.method === "PUT" || r.method === "POST")).toEqual([]);

      // As after an interruption: one blob never arrived.
      await store.delete("audio/0a1b/user-2");
      const resumed = await migrate();
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toContain("1 copied");
      expect(resumed.stderr).toContain("3 already there");
      expect(
        (await readAll(await store.get("audio/0a1b/user-2")))?.equals(BLOBS["audio/0a1b/user-2"] as Buffer),
      ).toBe(true);
    } finally {
      store.close();
    }
    // Three runs of the command, each a process of its own.
  }, 120_000);

  it("refuses a target that is not an s3:// URL, and a bucket that does not exist, copying nothing", async () => {
    const wrong = await runCli(["blobs", "migrate", "--data", dataDir, "--to", "gs://bucket/x"], { env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("--to must be an s3:// URL");
    const missing = await runCli(["blobs", "migrate", "--data", dataDir, "--to", "s3://no-such-bucket/x"], {
      env,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("the bucket does not exist");
    expect(missing.stderr).toContain("Nothing was copied");
  }, 60_000);
});
