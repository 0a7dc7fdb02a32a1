import { readFile, writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { HnswIndex, type NeighbourLabels } from "./hnsw-index.js";

/** Time spent loading between two yields to the event loop. */
const LOAD_SLICE_MS = 8;

/**
 * The labels sharing one graph point: `rep` is the point's label, `aliases` the others. `order`
 * holds the aliases ascending for searches (labels mostly arrive in order, so adding one is a
 * push): an alias removed stays there until more than half of it is removed (`dead`), skipped by
 * searches, so neither a search nor a removal costs the size of a large group.
 */
interface Group {
  rep: number;
  aliases: Set<number>;
  order: number[];
  /** Whether `order` needs sorting (an alias added below the highest). */
  unsorted: boolean;
  /** Entries of `order` no longer in `aliases`. */
  dead: number;
}

/** A group's `order` is compacted once more than this share of it is removed aliases. */
const MAX_DEAD_ORDER_SHARE = 0.5;

/**
 * Distances this close count as equal: scores are rounded to 6 decimals (`1 − distance`), and the
 * graph's distances are float32 sums.
 */
const TIE_MARGIN = 2e-6;

/** Labels one search gives at most, as a multiple of the `k` asked (when many points tie). */
const MAX_LABELS_PER_K = 4;

/**
 * An HNSW graph with one point per distinct vector (see docs/design-notes.md, "Semantic search:
 * the ANN index"). The same text embedded thousands of times gives identical vectors, and
 * identical points only link to each other in HNSW: the graph falls apart into cliques a search
 * cannot leave. So the first label added with a vector is its graph point (its representative)
 * and every later label with the same vector is an alias of it, kept beside the graph; a vector
 * without duplicates costs one entry of the hash table and nothing else.
 *
 * Identical vectors are found through a 31-bit hash of the vector's bytes (a small integer key)
 * mapping to the representatives with that hash; a hit is compared with the stored vector, so a
 * collision never merges two different vectors. The aliases and the hash table are saved beside
 * the graph. Labels are never reused: each is added once.
 */
export class DistinctVectorIndex {
  /** Representatives by the hash of their vector (an array only when hashes collide). */
  private readonly byHash = new Map<number, number | number[]>();
  /** The group of each representative that has aliases. */
  private readonly groupOfRep = new Map<number, Group>();
  /** The group of each alias (its `rep` is the alias's current representative). */
  private readonly groupOfAlias = new Map<number, Group>();
  /** Points of the graph marked deleted (hnswlib-node does not say how many). */
  private deadPoints = 0;

  private constructor(private readonly graph: HnswIndex) {}

  /** An empty index for vectors of `dimensions`, with room for `capacity` points before it grows. */
  static create(dimensions: number, capacity?: number): DistinctVectorIndex {
    return new DistinctVectorIndex(HnswIndex.create(dimensions, capacity));
  }

  /**
   * Reads a graph written by `save` and its labels file (aliases and hash table). A graph written
   * before aliases existed (`labelsFile` undefined) has its hash table rebuilt by reading every
   * point back (about 20 µs a point at 64 dimensions), and its points identical to an earlier one
   * become that one's aliases, marked deleted in the graph. Yields to the event loop as it goes.
   * Throws when a file cannot be read or does not fit.
   */
  static async load(
    graphFile: string,
    labelsFile: string | undefined,
    dimensions: number,
    deadPoints = 0,
  ): Promise<DistinctVectorIndex> {
    const index = new DistinctVectorIndex(await HnswIndex.load(graphFile, dimensions));
    index.deadPoints = deadPoints;
    const { graph } = index;
    let slice = performance.now();
    const pause = async (): Promise<void> => {
      if (performance.now() - slice < LOAD_SLICE_MS) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      slice = performance.now();
    };
    if (labelsFile === undefined) {
      for (const label of graph.labels()) {
        const vector = graph.getPoint(label);
        // Marked deleted (a row found gone): a dead point too.
        if (!vector) {
          index.deadPoints++;
          continue;
        }
        const hash = vectorHash(vector);
        const rep = index.findIdentical(hash, vector);
        if (rep === undefined) {
          index.addToBucket(hash, label);
        } else {
          graph.remove(label);
          index.deadPoints++;
          index.addAlias(rep, label);
        }
        await pause();
      }
      return index;
    }
    const bytes = await readFile(labelsFile);
    const aliases = bytes.length >= 4 ? bytes.readUInt32LE(0) : -1;
    const hashesAt = 4 + 8 * aliases;
    if (aliases < 0 || bytes.length < hashesAt || (bytes.length - hashesAt) % 8 !== 0)
      throw new Error("the labels file is not lists of label pairs");
    const checked = new Set<number>();
    for (let at = 4; at < hashesAt; at += 8) {
      const alias = bytes.readUInt32LE(at);
      const rep = bytes.readUInt32LE(at + 4);
      if (!checked.has(rep)) {
        if (index.groupOfAlias.has(rep) || !graph.getPoint(rep))
          throw new Error("an alias of the labels file names no point of the graph");
        checked.add(rep);
      }
      if (index.groupOfAlias.has(alias) || alias === rep)
        throw new Error("the labels file names an alias twice");
      index.addAlias(rep, alias);
      await pause();
    }
    for (let at = hashesAt; at < bytes.length; at += 8) {
      index.addToBucket(bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4));
      await pause();
    }
    return index;
  }

  get dimensions(): number {
    return this.graph.dimensions;
  }

  /**
   * Labels held, where a point marked deleted counts as one (the label it was added under): the
   * graph's points, deleted ones included, plus the aliases. For vectors without duplicates, the
   * graph's size. A removed alias is forgotten for good and no longer counted.
   */
  get size(): number {
    return this.graph.size + this.groupOfAlias.size;
  }

  /** Points of the graph, those marked deleted included. */
  get points(): number {
    return this.graph.size;
  }

  /**
   * Points of the graph marked deleted (its label removed, or turned into an alias when a graph of
   * the first layout was loaded): they stay in the graph, and a search walks through them.
   */
  get dead(): number {
    return this.deadPoints;
  }

  /** Labels held as aliases of a point. */
  get aliases(): number {
    return this.groupOfAlias.size;
  }

  /**
   * Adds a label with its vector (of `dimensions`): an alias when a point has the same vector, a
   * new point otherwise. A label already held is left as it is.
   */
  add(label: number, vector: Float32Array): void {
    if (this.groupOfAlias.has(label)) return;
    const hash = vectorHash(vector);
    const rep = this.findIdentical(hash, vector);
    if (rep === label) return;
    if (rep !== undefined) {
      this.addAlias(rep, label);
      return;
    }
    this.graph.add(label, vector);
    this.addToBucket(hash, label);
  }

  /**
   * Removes a label: an alias is dropped; a representative with aliases hands its point over to
   * one of them (the vector added again under that label, the old point marked deleted); the last
   * label of a vector marks its point deleted. Unknown labels are ignored.
   */
  remove(label: number): void {
    const asAlias = this.groupOfAlias.get(label);
    if (asAlias) {
      this.groupOfAlias.delete(label);
      dropAlias(asAlias, label);
      if (asAlias.aliases.size === 0) this.groupOfRep.delete(asAlias.rep);
      return;
    }
    const vector = this.graph.getPoint(label);
    if (!vector) return;
    const hash = vectorHash(vector);
    const group = this.groupOfRep.get(label);
    const heir = group?.aliases.values().next().value;
    if (group && heir !== undefined) {
      const before = this.graph.size;
      // An heir that was a point of a graph of the first layout (marked deleted) comes back to life.
      this.graph.add(heir, vector);
      if (this.graph.size === before) this.deadPoints--;
      this.graph.remove(label);
      this.deadPoints++;
      dropAlias(group, heir);
      this.groupOfAlias.delete(heir);
      this.groupOfRep.delete(label);
      group.rep = heir;
      if (group.aliases.size > 0) this.groupOfRep.set(heir, group);
      this.replaceInBucket(hash, label, heir);
      return;
    }
    this.graph.remove(label);
    this.deadPoints++;
    this.replaceInBucket(hash, label, undefined);
  }

  /**
   * The labels that can be among the `k` nearest to `query` when labels of equal distance are
   * ordered highest (newest) first: the graph's points nearest first, each expanded into at most
   * `k` of its labels, highest first, until a point is farther than the k-th label taken (by more
   * than `TIE_MARGIN`: points as near as that one are all taken, since any of their labels may
   * come before it), or `MAX_LABELS_PER_K` × k labels are taken (`capped`). `cuts` lists the
   * points that had more than k labels (their other labels are lower than the lowest taken).
   * `nextDistance` is the nearest a point not taken may be: undefined when the graph has no more
   * (it gave fewer points than asked, all taken), the last point's distance when all it gave were
   * taken (it may hold more, none nearer).
   */
  search(query: Float32Array, k: number): NeighbourLabels {
    const found = this.graph.search(query, k);
    const labels: number[] = [];
    const distances: number[] = [];
    const cuts: { distance: number; lowest: number }[] = [];
    const answer = (rest: Partial<NeighbourLabels>): NeighbourLabels => ({
      labels,
      distances,
      ...(cuts.length > 0 ? { cuts } : {}),
      ...rest,
    });
    // Ties with the k-th label can take many points: a round gives at most this many labels.
    const most = MAX_LABELS_PER_K * k;
    let kth: number | undefined;
    for (const [i, point] of found.labels.entries()) {
      const distance = found.distances[i] as number;
      if (kth !== undefined && distance > kth + TIE_MARGIN) return answer({ nextDistance: distance });
      if (labels.length >= most) return answer({ nextDistance: distance, capped: true });
      let taken = 0;
      let lowest = point;
      const take = (label: number): void => {
        labels.push(label);
        distances.push(distance);
        taken++;
        lowest = label;
      };
      const group = this.groupOfRep.get(point);
      if (!group) {
        take(point);
      } else {
        // The group's labels, highest first: its aliases walked down `order`, the point in its place.
        if (group.unsorted) {
          group.order.sort((a, b) => a - b);
          group.unsorted = false;
        }
        let pointDone = false;
        for (let at = group.order.length - 1; at >= -1 && taken < k; at--) {
          const alias = at >= 0 ? (group.order[at] as number) : -1;
          if (!pointDone && point > alias) {
            pointDone = true;
            take(point);
            if (taken >= k) break;
          }
          if (at >= 0 && group.aliases.has(alias)) take(alias);
        }
        // Cut at k: its other labels are lower than the lowest taken.
        if (taken < group.aliases.size + 1) cuts.push({ distance, lowest });
      }
      if (kth === undefined && labels.length >= k) kth = distances[k - 1];
    }
    // Every point the graph gave was taken: when it gave fewer than asked it has no more.
    if (found.labels.length < k) return answer({});
    const last = found.distances[found.distances.length - 1];
    return answer(last === undefined ? {} : { nextDistance: last });
  }

  /**
   * Writes the graph to `graphFile`, and to `labelsFile` (uint32, little-endian) the number of
   * aliases, the pairs `[alias, rep]`, then the hash table as pairs `[hash, rep]`, one a point.
   */
  async save(graphFile: string, labelsFile: string): Promise<void> {
    await this.graph.save(graphFile);
    const pairs = this.groupOfAlias.size + this.graph.size;
    const bytes = Buffer.alloc(4 + 8 * pairs);
    bytes.writeUInt32LE(this.groupOfAlias.size, 0);
    let at = 4;
    const write = (a: number, b: number): void => {
      bytes.writeUInt32LE(a, at);
      bytes.writeUInt32LE(b, at + 4);
      at += 8;
    };
    for (const [alias, group] of this.groupOfAlias) write(alias, group.rep);
    for (const [hash, bucket] of this.byHash) {
      if (typeof bucket === "number") write(hash, bucket);
      else for (const rep of bucket) write(hash, rep);
    }
    await writeFile(labelsFile, bytes.subarray(0, at));
  }

  /** The representative whose stored vector equals `vector`, if any. */
  private findIdentical(hash: number, vector: Float32Array): number | undefined {
    const bucket = this.byHash.get(hash);
    if (bucket === undefined) return undefined;
    for (const rep of typeof bucket === "number" ? [bucket] : bucket) {
      const stored = this.graph.getPoint(rep);
      if (stored && sameVector(stored, vector)) return rep;
    }
    return undefined;
  }

  private addAlias(rep: number, alias: number): void {
    let group = this.groupOfRep.get(rep);
    if (!group) {
      group = { rep, aliases: new Set(), order: [], unsorted: false, dead: 0 };
      this.groupOfRep.set(rep, group);
    }
    group.aliases.add(alias);
    const highest = group.order[group.order.length - 1];
    if (highest !== undefined && alias < highest) group.unsorted = true;
    group.order.push(alias);
    this.groupOfAlias.set(alias, group);
  }

  private addToBucket(hash: number, label: number): void {
    const bucket = this.byHash.get(hash);
    if (bucket === undefined) this.byHash.set(hash, label);
    else if (typeof bucket === "number") this.byHash.set(hash, [bucket, label]);
    else bucket.push(label);
  }

  /** Replaces `label` in its hash's bucket with `next`, or takes it out (`next` undefined). */
  private replaceInBucket(hash: number, label: number, next: number | undefined): void {
    const bucket = this.byHash.get(hash);
    if (bucket === label) {
      if (next === undefined) this.byHash.delete(hash);
      else this.byHash.set(hash, next);
    } else if (Array.isArray(bucket)) {
      const rest = bucket.filter((rep) => rep !== label);
      if (next !== undefined) rest.push(next);
      this.byHash.set(hash, rest.length === 1 ? (rest[0] as number) : rest);
    }
  }
}

/** Takes an alias out of its group; compacts the group's `order` when most of it is removed aliases. */
function dropAlias(group: Group, alias: number): void {
  if (!group.aliases.delete(alias)) return;
  group.dead++;
  if (group.dead > MAX_DEAD_ORDER_SHARE * group.order.length) {
    group.order = group.order.filter((label) => group.aliases.has(label));
    group.dead = 0;
  }
}

/** Whether two vectors hold the same values. */
function sameVector(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A 31-bit hash of a vector's bytes (MurmurHash3's 32-bit mixing over its words), a small-integer key. */
export function vectorHash(vector: Float32Array): number {
  const words = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
  let h = words.length;
  for (const word of words) {
    let w = Math.imul(word, 0xcc9e2d51);
    w = (w << 15) | (w >>> 17);
    h ^= Math.imul(w, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x7fffffff;
}
