/**
 * Where `openconvai export --backup DIR` writes. A new DIR is written as `DIR.partial` beside it and
 * renamed into place when whole. An existing empty DIR (a mount point, say, which nothing can be
 * renamed onto) is written straight into; its manifest, written last, still marks a whole backup.
 * Either way the directory carries a marker file while it is written, so what a killed run left
 * behind is known to be ours before it is deleted, and nothing else ever is.
 */
import { lstat, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { MANIFEST_FILE, PARTIAL_MARKER } from "./backup-manifest.js";
import { resolveLinks } from "./export-target.js";

/** Where a backup is being written, and the directory it becomes. */
export interface BackupDestination {
  /** The directory the backup becomes (links followed). */
  target: string;
  /** Where it is written meanwhile: `DIR.partial`, or DIR itself when it existed (empty). */
  dir: string;
  /** Whether the backup is written straight into the target. */
  inPlace: boolean;
}

/** Whether a path exists (without following a last link). */
async function exists(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => undefined)) !== undefined;
}

/** Deletes everything inside a directory, leaving the directory itself (it may be a mount point). */
async function emptyDirectory(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
}

/** Marks a directory as one a backup is being written into. */
async function markPartial(dir: string): Promise<void> {
  await writeFile(
    path.join(dir, PARTIAL_MARKER),
    "openconvai is writing a backup here; a directory with this file and no manifest.json is not a whole backup\n",
  );
}

/** Prepares the directory of a backup (DIR new, or empty); throws, changing nothing, for anything else. */
export async function prepareBackupDirectory(dir: string): Promise<BackupDestination> {
  const target = await resolveLinks(dir);
  const info = await stat(target).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new Error(`${dir} exists and is not a directory; give a new directory for the backup`);
  }
  if (info) {
    const entries = await readdir(target);
    // Left by a run killed while writing straight into DIR: ours by its marker, and never whole.
    const leftByUs = entries.includes(PARTIAL_MARKER) && !entries.includes(MANIFEST_FILE);
    if (entries.length > 0 && !leftByUs) {
      throw new Error(
        `${dir} is not empty; give a new (or empty) directory, so no earlier backup is mixed into this one`,
      );
    }
    await emptyDirectory(target);
    await markPartial(target);
    return { target, dir: target, inPlace: true };
  }
  const partial = `${target}.partial`;
  if (await exists(partial)) {
    if (!(await exists(path.join(partial, PARTIAL_MARKER)))) {
      throw new Error(
        `${partial} exists and was not written by openconvai (it has no ${PARTIAL_MARKER}); move or delete it, or give another directory for the backup`,
      );
    }
    // Left by a run that could not clean up (killed): ours, by its marker.
    await rm(partial, { recursive: true, force: true });
  }
  await mkdir(partial, { recursive: true });
  await markPartial(partial);
  return { target, dir: partial, inPlace: false };
}

/** Puts a whole backup (its manifest written) into place. */
export async function commitBackupDirectory(destination: BackupDestination): Promise<void> {
  if (!destination.inPlace) await rename(destination.dir, destination.target);
  await rm(path.join(destination.target, PARTIAL_MARKER), { force: true });
}

/** Deletes what a failed or stopped backup wrote: the partial directory, or what is inside DIR. */
export async function discardBackupDirectory(destination: BackupDestination): Promise<void> {
  if (destination.inPlace) await emptyDirectory(destination.dir);
  else await rm(destination.dir, { recursive: true, force: true });
}
