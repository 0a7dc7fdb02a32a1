import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "./config-error.js";

/** Who the process runs as, for the fix a message suggests. */
function whoRuns(): string {
  const uid = process.getuid?.();
  return uid === undefined ? "the user running openconvai" : `uid ${uid}, who runs openconvai`;
}

/** The setting a directory comes from, and what to do instead, for messages. */
export interface DirSetting {
  /** The flag and variable, e.g. `--data / OPENCONVAI_DATA`. */
  setting: string;
  /** The other way out, e.g. `pass --data a writable directory`. */
  instead: string;
}

/** The nearest existing ancestor of a path (the path itself if it exists), with its stats. */
function nearestExisting(dir: string): { at: string; isDirectory: boolean } {
  let at = dir;
  for (;;) {
    try {
      return { at, isDirectory: statSync(at).isDirectory() };
    } catch (error) {
      const parent = path.dirname(at);
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file on the way, found as the walk goes up.
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === at) throw error;
      at = parent;
    }
  }
}

/** Why a write failed, in words, from its error code. */
function describeCode(code: string | undefined): string {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "the disk is full";
    case "EDQUOT":
      return "the disk quota is used up";
    case "ENOENT":
      return "this file system does not allow it";
    default:
      return code ?? "unknown error";
  }
}

/**
 * Makes sure `dir` is a directory openconvai can write to, creating it (and missing parents) if
 * needed, before anything is opened in it. The check is access(W_OK) and then a real write: a
 * small file created and removed, so a read-only mount, a full disk, or a directory only root
 * could write to (access() says yes to root) is refused here, at start, with one line naming
 * `setting` and the fix, rather than at the first write of a running server.
 */
export function ensureWritableDir(dir: string, { setting, instead }: DirSetting): void {
  const fix = `make it writable by ${whoRuns()} (chown -R or chmod -R u+w), or ${instead}`;
  // Walked by hand: mkdirSync's recursive mode loops forever on some paths (under /proc).
  const existing = nearestExisting(dir);
  if (!existing.isDirectory) {
    const what = existing.at === dir ? `${dir} is a file` : `${existing.at} (on the way to ${dir}) is a file`;
    throw new ConfigError(
      `${setting}: ${what}, not a directory: move the file away, or ${instead} (created if missing).`,
    );
  }
  const missing = path.relative(existing.at, dir);
  let current = existing.at;
  for (const part of missing === "" ? [] : missing.split(path.sep)) {
    current = path.join(current, part);
    try {
      mkdirSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      throw new ConfigError(
        `${setting}: cannot create the directory ${current} (${describeCode(code)}). Create it yourself and ${fix}.`,
      );
    }
  }
  const probe = path.join(dir, `.openconvai-write-check-${process.pid}`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    writeFileSync(probe, "");
  } catch (error) {
    throw new ConfigError(
      `${setting}: cannot write in ${dir} (${describeCode((error as NodeJS.ErrnoException).code)}): ${fix}.`,
    );
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      // Nothing was created, or it cannot be removed; either way there is nothing more to do.
    }
  }
}
