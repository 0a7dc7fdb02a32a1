import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { audioBlobKey, fileBlobKey, InvalidBlobKeyError, newAudioBlobKey } from "../src/blobs/blob-keys.js";
import type { BlobStore } from "../src/blobs/blob-store.js";
import { FsBlobStore } from "../src/blobs/fs/fs-blob-store.js";
import { S3_PART_SIZE, S3BlobStore } from "../src/blobs/s3/s3-blob-store.js";
import { HOSTILE_IDS } from "./fixtures/hostile-ids.js";
import { type S3TestServer, s3StoreOptions, startS3Server } from "./support/s3-server.js";

/** A blob store opened for one test, with a look at what its backing storage holds. */
interface OpenedBlobStore {
  store: BlobStore;
  /**
   * Every object the backing storage holds, named relative to the store's root (something
   * written outside the root shows up as `../…`), temporary objects included.
   */
  listStored(): Promise<string[]>;
  /** A store of the same kind that cannot be reached or written (a file as its root, a missing bucket). */
  unreachable(): BlobStore;
  cleanup(): Promise<void>;
}

/** One s3rver for the whole file, started by the first S3 test; each test works under a prefix of its own. */
let s3Server: Promise<S3TestServer> | undefined;
let s3Tests = 0;

afterAll(async () => {
  await (await s3Server)?.close();
});

/** Every BlobStore implementation; each one runs the whole suite. */
const IMPLEMENTATIONS: { name: string; open(): Promise<OpenedBlobStore> }[] = [
  {
    name: "fs",
    open: async () => {
      // The root is a folder inside the temp dir, so a file written beside it is seen too.
      const base = await mkdtemp(path.join(tmpdir(), "openconvai-blobs-"));
      const root = path.join(base, "blobs");
      return {
        store: new FsBlobStore(root),
        listStored: async () => {
          const entries = await readdir(base, { recursive: true, withFileTypes: true });
          return entries
            .filter((entry) => entry.isFile())
            .map((entry) =>
              path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"),
            )
            .sort();
        },
        unreachable: () => new FsBlobStore(path.join(base, "blobs", "a-file-not-a-folder")),
        cleanup: () => rm(base, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "s3",
    open: async () => {
      s3Server ??= startS3Server();
      const server = await s3Server;
      // The prefix is a "folder" of the test's own, so an object written beside it is seen too.
      const base = `t${++s3Tests}`;
      const store = new S3BlobStore(s3StoreOptions(server, server.bucket, `${base}/blobs`));
      const stores = [store];
      return {
        store,
        listStored: async () =>
          (await server.listKeys(`${base}/`)).map((key) => path.posix.relative(`${base}/blobs`, key)).sort(),
        unreachable: () => {
          const missing = new S3BlobStore(s3StoreOptions(server, "no-such-bucket", "blobs"));
          stores.push(missing);
          return missing;
        },
        cleanup: async () => {
          for (const opened of stores) opened.close();
        },
      };
    },
  },
];

async function readAll(stream: Readable | undefined): Promise<string | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("latin1");
}

/** A body that delivers some bytes, then fails, as an upload cut off halfway does. */
function failingBody(): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from("half of the new");
      throw new Error("the upload was cut off");
    })(),
  );
}

const REFUSED_KEYS = [
  "../escape",
  "a/../../escape",
  "/tmp/escape",
  "..",
  ".",
  "",
  "a/",
  "a//b",
  "a/./b",
  "a/../b",
  "a\\..\\..\\escape",
  "a\0b",
];

describe.each(IMPLEMENTATIONS)("BlobStore contract: $name", (implementation) => {
  let opened: OpenedBlobStore;
  let store: BlobStore;

  beforeEach(async () => {
    opened = await implementation.open();
    store = opened.store;
  });

  afterEach(async () => {
    await opened.cleanup();
  });

  it("stores a buffer and returns its size", async () => {
    expect(await store.put("audio/c1", Buffer.from("0123456789"))).toBe(10);
    expect(await readAll(await store.get("audio/c1"))).toBe("0123456789");
  });

  it("stores a stream delivered in chunks and returns the total size", async () => {
    const body = Readable.from([Buffer.from("abc"), Buffer.from("defg"), Buffer.alloc(0), Buffer.from("h")]);
    expect(await store.put("audio/c1", body)).toBe(8);
    expect(await readAll(await store.get("audio/c1"))).toBe("abcdefgh");
  });

  it("stores an empty blob", async () => {
    expect(await store.put("audio/empty", Buffer.alloc(0))).toBe(0);
    expect(await readAll(await store.get("audio/empty"))).toBe("");
  });

  it("keeps every byte value", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await store.put("audio/binary", bytes)).toBe(256);
    expect(await readAll(await store.get("audio/binary"))).toBe(bytes.toString("latin1"));
  });

  it("reads a range, inclusive at both ends", async () => {
    await store.put("audio/c1", Buffer.from("0123456789"));
    expect(await readAll(await store.get("audio/c1", { start: 2, end: 5 }))).toBe("2345");
    expect(await readAll(await store.get("audio/c1", { start: 0, end: 0 }))).toBe("0");
    expect(await readAll(await store.get("audio/c1", { start: 7, end: 9 }))).toBe("789");
    expect(await readAll(await store.get("audio/c1", { start: 0, end: 9 }))).toBe("0123456789");
  });

  it("replaces a blob, a shorter one leaving nothing of the longer", async () => {
    await store.put("audio/c1", Buffer.from("a longer first version"));
    expect(await store.put("audio/c1", Buffer.from("short"))).toBe(5);
    expect(await readAll(await store.get("audio/c1"))).toBe("short");
    expect(await opened.listStored()).toEqual(["audio/c1"]);
  });

  it("answers undefined for a missing key, with or without a range", async () => {
    expect(await store.get("audio/missing")).toBeUndefined();
    expect(await store.get("audio/missing", { start: 0, end: 3 })).toBeUndefined();
    expect(await store.get("never/written/here")).toBeUndefined();
  });

  it("deletes a blob and leaves the others", async () => {
    await store.put("files/c1/file_a", Buffer.from("a"));
    await store.put("files/c1/file_b", Buffer.from("b"));
    await store.delete("files/c1/file_a");
    expect(await store.get("files/c1/file_a")).toBeUndefined();
    expect(await readAll(await store.get("files/c1/file_b"))).toBe("b");
    expect(await opened.listStored()).toEqual(["files/c1/file_b"]);
  });

  it("deletes a missing blob without an error", async () => {
    await expect(store.delete("audio/missing")).resolves.toBeUndefined();
    await expect(store.delete("never/written/here")).resolves.toBeUndefined();
  });

  it("keeps the previous blob, and nothing else, when a put fails", async () => {
    await store.put("audio/c1", Buffer.from("the old recording"));
    await expect(store.put("audio/c1", failingBody())).rejects.toThrow("the upload was cut off");
    expect(await readAll(await store.get("audio/c1"))).toBe("the old recording");
    expect(await opened.listStored()).toEqual(["audio/c1"]);
  });

  it("leaves no blob and no temporary object when the first put of a key fails", async () => {
    await expect(store.put("files/c1/file_a", failingBody())).rejects.toThrow("the upload was cut off");
    expect(await store.get("files/c1/file_a")).toBeUndefined();
    expect(await opened.listStored()).toEqual([]);
  });

  it("destroys a stream body it could not store, read or not", async () => {
    // Bytes for ever, as a file or request the store stops reading: only destroying it ends it.
    const endless = () =>
      Readable.from(
        (async function* () {
          const chunk = Buffer.alloc(1 << 20, 7);
          for (;;) yield chunk;
        })(),
      );
    const refused = endless();
    await expect(store.put("../escape", refused)).rejects.toThrow(InvalidBlobKeyError);
    expect(refused.destroyed).toBe(true);
    if (implementation.name === "fs") await store.put("a-file-not-a-folder", Buffer.from("x"));
    const unstored = endless();
    await expect(opened.unreachable().put("audio/c1", unstored)).rejects.toThrow();
    expect(unstored.destroyed).toBe(true);
  });

  // s3rver writes an object in place, so two concurrent PutObjects of a key interleave there;
  // S3 (and MinIO, R2, Ceph) makes each write whole and the last one wins.
  it.skipIf(implementation.name === "s3")(
    "ends concurrent puts of one key with one of them, whole",
    async () => {
      const first = Buffer.alloc(1 << 20, "a");
      const second = Buffer.alloc(1 << 19, "b");
      const sizes = await Promise.all([store.put("audio/c1", first), store.put("audio/c1", second)]);
      expect(sizes).toEqual([first.length, second.length]);
      expect([first.toString("latin1"), second.toString("latin1")]).toContain(
        await readAll(await store.get("audio/c1")),
      );
      expect(await opened.listStored()).toEqual(["audio/c1"]);
    },
  );

  it("keeps keys with nested segments apart", async () => {
    const keys = ["files/c1/file_a", "files/c1/file_b", "files/c2/file_a", "audio/c1", "a/b/c/d/e"];
    for (const key of keys) await store.put(key, Buffer.from(`bytes of ${key}`));
    for (const key of keys) expect(await readAll(await store.get(key))).toBe(`bytes of ${key}`);
    expect(await opened.listStored()).toEqual([...keys].sort());
  });

  it("stores every key the key layout builds, whatever the conversation id", async () => {
    const ids = ["c1", ".", "..", "a/b", "../../x", "with space", "ünïcödé", "%2E"];
    const keys = ids.flatMap((id) => [audioBlobKey(id), fileBlobKey(id, "file_1")]);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) await store.put(key, Buffer.from(key));
    for (const key of keys)
      expect(await readAll(await store.get(key))).toBe(Buffer.from(key).toString("latin1"));
    expect((await opened.listStored()).length).toBe(keys.length);
  });

  it("says the size of a stored blob, and undefined for a missing one", async () => {
    await store.put("audio/c1/r1", Buffer.from("0123456789"));
    expect(await store.size("audio/c1/r1")).toBe(10);
    expect(await store.size("audio/c1/r2")).toBeUndefined();
    expect(await store.size("audio/c1")).toBeUndefined();
    expect(await store.size("nothing/here")).toBeUndefined();
  });

  it("streams a blob whole when it is deleted after get resolved", async () => {
    const bytes = Buffer.alloc(256 * 1024, 7);
    await store.put("audio/c1/r1", bytes);
    const stream = await store.get("audio/c1/r1");
    await store.delete("audio/c1/r1");
    expect(await readAll(stream)).toBe(bytes.toString("latin1"));
    expect(await store.get("audio/c1/r1")).toBeUndefined();
  });

  it("leaves nothing behind when the last blob of a folder is deleted, and writes there again", async () => {
    await store.put("audio/c1/r1", Buffer.from("one"));
    await store.delete("audio/c1/r1");
    expect(await opened.listStored()).toEqual([]);
    await store.put("audio/c1/r2", Buffer.from("two"));
    expect(await readAll(await store.get("audio/c1/r2"))).toBe("two");
  });

  it("keeps every write of concurrent puts and deletes in one folder whole", async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `audio/c1/r${i}`);
    await Promise.all(
      keys.map(async (key) => {
        await store.put(key, Buffer.from(key));
        await store.delete(key);
        await store.put(`${key}b`, Buffer.from(key));
      }),
    );
    for (const key of keys) expect(await readAll(await store.get(`${key}b`))).toBe(key);
  });

  it("gives short, distinct keys for every id the API accepts", async () => {
    const keys = HOSTILE_IDS.flatMap((id) => [
      newAudioBlobKey(id),
      fileBlobKey(id, "file_0123456789abcdef01234567"),
    ]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(newAudioBlobKey("c1")).not.toBe(newAudioBlobKey("c1"));
    for (const key of keys) {
      for (const segment of key.split("/")) expect(Buffer.byteLength(segment)).toBeLessThanOrEqual(200);
      await store.put(key, Buffer.from(key));
      expect(await store.size(key)).toBe(Buffer.byteLength(key));
    }
    expect((await opened.listStored()).length).toBe(keys.length);
  });

  it("says a working store is reachable, and a broken one is not, naming it", async () => {
    await expect(store.checkReachable()).resolves.toBeUndefined();
    if (implementation.name === "fs") await store.put("a-file-not-a-folder", Buffer.from("x"));
    await expect(opened.unreachable().checkReachable()).rejects.toThrow(/cannot be (reached|written)/);
  });

  it.each(REFUSED_KEYS)("refuses the key %j on every method, writing nothing", async (key) => {
    await expect(store.put(key, Buffer.from("x"))).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.get(key)).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.get(key, { start: 0, end: 0 })).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.delete(key)).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.size(key)).rejects.toThrow(InvalidBlobKeyError);
    expect(await opened.listStored()).toEqual([]);
  });
});

describe("S3BlobStore on the wire", () => {
  let server: S3TestServer;
  let store: S3BlobStore;
  const prefix = "wire/blobs";

  beforeEach(async () => {
    s3Server ??= startS3Server();
    server = await s3Server;
    store = new S3BlobStore(s3StoreOptions(server, server.bucket, prefix));
    server.requests.length = 0;
  });

  afterEach(() => {
    store.close();
  });

  /** The requests made for one blob key. */
  const requestsFor = (key: string) =>
    server.requests.filter((r) => r.path === `/${server.bucket}/${prefix}/${key}`);

  it("reads a range with a Range request, fetching only those bytes", async () => {
    const bytes = Buffer.alloc(256 * 1024, 3);
    bytes.write("0123456789", 100_000, "latin1");
    await store.put("audio/range", bytes);
    server.requests.length = 0;
    expect(await readAll(await store.get("audio/range", { start: 100_002, end: 100_005 }))).toBe("2345");
    const [read] = requestsFor("audio/range");
    expect(read).toMatchObject({
      method: "GET",
      range: "bytes=100002-100005",
      status: 206,
      contentLength: 4,
    });
  });

  it("puts a small body with one PutObject and a large one as a multipart upload", async () => {
    await store.put("audio/small", Readable.from([Buffer.from("small")]));
    expect(requestsFor("audio/small").map((r) => [r.method, [...r.query.keys()]])).toEqual([
      ["PUT", ["x-id"]],
    ]);

    const chunk = Buffer.alloc(64 * 1024, 9);
    const chunks = Math.ceil((S3_PART_SIZE * 1.5) / chunk.length);
    const body = Readable.from(Array.from({ length: chunks }, () => chunk));
    expect(await store.put("audio/large", body)).toBe(chunks * chunk.length);
    const requests = requestsFor("audio/large");
    expect(requests.filter((r) => r.method === "POST" && r.query.has("uploads"))).toHaveLength(1);
    expect(requests.filter((r) => r.method === "PUT" && r.query.has("partNumber"))).toHaveLength(2);
    expect(requests.filter((r) => r.method === "POST" && r.query.has("uploadId"))).toHaveLength(1);
    expect(await store.size("audio/large")).toBe(chunks * chunk.length);
  });

  it("aborts a multipart upload whose body fails, keeping the previous object", async () => {
    await store.put("audio/c1", Buffer.from("the old recording"));
    server.requests.length = 0;
    const part = Buffer.alloc(S3_PART_SIZE, 1);
    const failing = Readable.from(
      (async function* () {
        yield part;
        yield part;
        throw new Error("the upload was cut off");
      })(),
    );
    await expect(store.put("audio/c1", failing)).rejects.toThrow();
    // The upload was started, never completed, and its abort was asked for.
    const requests = requestsFor("audio/c1");
    expect(requests.filter((r) => r.method === "POST" && r.query.has("uploads"))).toHaveLength(1);
    expect(requests.filter((r) => r.method === "POST" && r.query.has("uploadId"))).toHaveLength(0);
    expect(requests.filter((r) => r.method === "DELETE" && r.query.has("uploadId"))).toHaveLength(1);
    expect(await readAll(await store.get("audio/c1"))).toBe("the old recording");
  });

  it("deletes the object from the bucket, under the prefix", async () => {
    await store.put("files/c1/file_a", Buffer.from("a"));
    expect(await server.listKeys(`${prefix}/files/`)).toEqual([`${prefix}/files/c1/file_a`]);
    await store.delete("files/c1/file_a");
    expect(requestsFor("files/c1/file_a").some((r) => r.method === "DELETE")).toBe(true);
    expect(await server.listKeys(`${prefix}/files/`)).toEqual([]);
  });
});
