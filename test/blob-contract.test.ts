import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { audioBlobKey, fileBlobKey, InvalidBlobKeyError, newAudioBlobKey } from "../src/blobs/blob-keys.js";
import type { BlobStore } from "../src/blobs/blob-store.js";
import { FsBlobStore } from "../src/blobs/fs/fs-blob-store.js";
import { HOSTILE_IDS } from "./fixtures/hostile-ids.js";

/** A blob store opened for one test, with a look at what its backing storage holds. */
interface OpenedBlobStore {
  store: BlobStore;
  /**
   * Every object the backing storage holds, named relative to the store's root (something
   * written outside the root shows up as `../…`), temporary objects included.
   */
  listStored(): Promise<string[]>;
  cleanup(): Promise<void>;
}

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
        cleanup: () => rm(base, { recursive: true, force: true }),
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

  it("ends concurrent puts of one key with one of them, whole", async () => {
    const first = Buffer.alloc(1 << 20, "a");
    const second = Buffer.alloc(1 << 19, "b");
    const sizes = await Promise.all([store.put("audio/c1", first), store.put("audio/c1", second)]);
    expect(sizes).toEqual([first.length, second.length]);
    expect([first.toString("latin1"), second.toString("latin1")]).toContain(
      await readAll(await store.get("audio/c1")),
    );
    expect(await opened.listStored()).toEqual(["audio/c1"]);
  });

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

  it.each(REFUSED_KEYS)("refuses the key %j on every method, writing nothing", async (key) => {
    await expect(store.put(key, Buffer.from("x"))).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.get(key)).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.get(key, { start: 0, end: 0 })).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.delete(key)).rejects.toThrow(InvalidBlobKeyError);
    await expect(store.size(key)).rejects.toThrow(InvalidBlobKeyError);
    expect(await opened.listStored()).toEqual([]);
  });
});
