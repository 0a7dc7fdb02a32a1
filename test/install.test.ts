/**
 * A clean install on the Node.js this project supports: every package the lockfile installs
 * accepts this Node.js in its `engines` (npm warns about each one that does not, and some of them
 * crash at run time on an older Node). `light-my-request` and `livekit-client` are held back in
 * package.json's overrides for this reason.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface LockPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

describe("the lockfile", () => {
  it("installs only packages whose engines accept this Node.js", () => {
    const lock = JSON.parse(readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, LockPackage>;
    };
    const refusing: string[] = [];
    for (const [where, pkg] of Object.entries(lock.packages)) {
      const range = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      if (!where || !range) continue;
      if (!semver.satisfies(process.version, range, { includePrerelease: true })) {
        refusing.push(`${where.replace(/^.*node_modules\//, "")}@${pkg.version} needs node ${range}`);
      }
    }
    expect(refusing).toEqual([]);
  });

  it("declares the Node.js range the machines run", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as {
      engines: { node: string };
    };
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });
});
