import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareBackupDirectory } from "../src/backup/backup-destination.js";
import { writeBackup } from "../src/backup/backup-writer.js";
import type { BlobStore } from "../src/blobs/blob-store.js";
import { resolveConfig } from "../src/config/config.js";
import { importNdjson } from "../src/ingest/ndjson-importer.js";
import { ndjsonStreamSource } from "../src/ingest/ndjson-source.js";
import { openServices } from "../src/main.js";
import { syntheticNdjson } from "./fixtures/synthetic-conversations.js";

// A backup that fails part way (here: the disk fills while a recording is copied) deletes what it
// wrote, and only that: an existing directory it was writing straight into (a mount point) stays.

/** A blob store whose every read fails as a full disk would. */
function failingBlobs(real: BlobStore): BlobStore {
  const full = Object.assign(new Error("ENOSPC: no space left on device, write"), {
    code: "ENOSPC",
    syscall: "write",
  });
  return Object.assign(Object.create(real) as BlobStore, {
    get: async () =>
      new Readable({
        read() {
          this.destroy(full);
        },
      }),
  });
}

describe("a backup that fails part way", () => {
  let dir: string;
  let services: Awaited<ReturnType<typeof openServices>>;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "openconvai-backup-"));
    services = await openServices(resolveConfig({ data: path.join(dir, "data") }, {}), "bulk");
    await importNdjson(ndjsonStreamSource(Readable.from([syntheticNdjson(3, 2)])), services.conversations, {
      maxLineBytes: 1 << 24,
    });
    const [first] = await services.db.conversations.scanConversations(null, 1);
    await services.conversations.putAudio(first?.conversationId ?? "", Buffer.from("bytes"), "audio/mpeg");
  });
  afterEach(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("written straight into an existing empty directory: empties it, and the directory stays", async () => {
    const target = path.join(dir, "mounted");
    mkdirSync(target);
    const before = statSync(target);
    const destination = await prepareBackupDirectory(target);
    expect(destination.inPlace).toBe(true);
    expect(readdirSync(target)).toEqual([".openconvai-partial"]);
    await expect(writeBackup(services.db, failingBlobs(services.blobs), destination)).rejects.toMatchObject({
      code: "ENOSPC",
    });
    const after = statSync(target);
    expect([after.dev, after.ino]).toEqual([before.dev, before.ino]);
    expect(readdirSync(target)).toEqual([]);
  });

  it("written into DIR.partial: deletes it, and DIR is never made", async () => {
    const target = path.join(dir, "new");
    const destination = await prepareBackupDirectory(target);
    expect(destination).toMatchObject({ inPlace: false, dir: `${target}.partial` });
    await expect(writeBackup(services.db, failingBlobs(services.blobs), destination)).rejects.toMatchObject({
      code: "ENOSPC",
    });
    expect(readdirSync(dir).sort()).toEqual(["data"]);
  });
});
