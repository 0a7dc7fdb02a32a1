import { randomUUID } from "node:crypto";
import { constants, type Dirent } from "node:fs";
import { access, mkdir, open, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertBlobKey, InvalidBlobKeyError } from "../blob-keys.js";
import type { BlobStore, ByteRange } from "../blob-store.js";

/** The temporary file of a put in progress: `<key>.<uuid>.tmp`. */
const TEMP_FILE = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** How often a write retries creating its folder when a delete removed it in between (an empty folder race). */
const FOLDER_ATTEMPTS = 10;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Blobs as files under a directory; writes go to a temporary file that is renamed into place.
 * A delete also removes the folders it leaves empty (up to the root), so a key layout with a
 * folder per conversation leaves nothing behind when the conversation goes.
 */
export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    assertBlobKey(key);
    // A checked key stays under the root; resolving again keeps that true whatever the checks miss.
    const resolved = path.resolve(this.root, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new InvalidBlobKeyError(key);
    return resolved;
  }

  async put(key: string, body: Readable | Buffer): Promise<number> {
    try {
      return await this.putFile(key, body);
    } catch (error) {
      // A body never read (the folder could not be made) is let go of too.
      if (!Buffer.isBuffer(body)) body.destroy();
      throw error;
    }
  }

  private async putFile(key: string, body: Readable | Buffer): Promise<number> {
    const target = this.pathOf(key);
    const temp = `${target}.${randomUUID()}.tmp`;
    // The temporary file is opened before a byte is read: a delete may remove the (empty) folder
    // between mkdir and open, and then the folder is made again. Once the file is open in it, the
    // folder is not empty and stays.
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    for (let attempt = 1; handle === undefined; attempt++) {
      try {
        await mkdir(path.dirname(target), { recursive: true });
        handle = await open(temp, "wx");
      } catch (error) {
        // A concurrent delete pruning the folder makes mkdir or open fail with ENOENT, or with
        // ENOTDIR when it removes a folder mkdir is walking through: both are tried again.
        const code = errorCode(error);
        if ((code !== "ENOENT" && code !== "ENOTDIR") || attempt >= FOLDER_ATTEMPTS) throw error;
      }
    }
    try {
      await pipeline(
        Buffer.isBuffer(body) ? Readable.from([body]) : body,
        handle.createWriteStream({ flush: true }),
      );
      // The size of what this put wrote: once renamed, a concurrent put of the key may replace it.
      const { size } = await stat(temp);
      await rename(temp, target);
      return size;
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const file = this.pathOf(key);
    // Opened now, not when the stream first reads: a blob deleted after this still streams whole.
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, "r");
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        return undefined;
      }
    } catch (error) {
      if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return undefined;
      throw error;
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const stats = await stat(this.pathOf(key));
      return stats.isFile() ? stats.size : undefined;
    } catch (error) {
      if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await rm(file, { force: true });
    const root = path.resolve(this.root);
    for (let folder = path.dirname(file); folder !== root && folder.startsWith(root + path.sep); ) {
      try {
        await rmdir(folder);
      } catch {
        // Not empty (another blob, or a write just starting in it), or already gone: it stays.
        return;
      }
      folder = path.dirname(folder);
    }
  }

  async checkReachable(): Promise<void> {
    // Made if missing, as the first put would; then it must be a directory this process can write.
    try {
      await mkdir(this.root, { recursive: true });
      if (!(await stat(this.root)).isDirectory())
        throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
      await access(this.root, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new Error(
        `blob store ${this.root} cannot be written (${errorCode(error) ?? (error as Error).message}): make it a directory writable by the user running openconvai, or set --data / OPENCONVAI_DATA elsewhere`,
        { cause: error },
      );
    }
  }

  /**
   * Every blob stored, with its size, in no set order (puts in progress left out): what
   * `openconvai blobs migrate` copies. Not part of BlobStore: only the filesystem is listed.
   */
  async *list(): AsyncGenerator<{ key: string; size: number }> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile() || TEMP_FILE.test(entry.name)) continue;
      const key = path.relative(this.root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
      const size = await this.size(key).catch(() => undefined);
      if (size !== undefined) yield { key, size };
    }
  }
}
