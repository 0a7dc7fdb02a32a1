import { createRequire } from "node:module";
import type * as Hnswlib from "hnswlib-node";

let addon: typeof Hnswlib | undefined;

/**
 * The native addon, loaded on first use: a server that never builds an index (no embeddings
 * provider, `OPENCONVAI_SEMANTIC_INDEX=exact`) never loads it, and one whose addon is missing
 * fails only the index (searches stay exact) rather than the start.
 */
function hnswlib(): typeof Hnswlib {
  addon ??= createRequire(import.meta.url)("hnswlib-node") as typeof Hnswlib;
  return addon;
}

/** The highest label the addon keeps whole (it reads labels as unsigned 32-bit integers). */
export const MAX_HNSW_LABEL = 0xffff_ffff;

/** The graph's parameters (see docs/design-notes.md, "Semantic search: the ANN index"). */
export const HNSW_PARAMETERS = {
  /** Links per node and layer (2·M on the bottom layer): recall and memory grow with it. */
  m: 32,
  /** Candidates kept while inserting: a better graph for a slower build. */
  efConstruction: 100,
  /** Candidates kept while searching (at least the number of neighbours asked for). */
  efSearch: 512,
} as const;

/** The labels of a k-nearest-neighbour search, nearest first. */
export interface NeighbourLabels {
  labels: number[];
  /** `1 − inner product` of each (the vectors are unit length). */
  distances: number[];
  /** How near a point not returned may be; undefined when the index gave every point it has. */
  nextDistance?: number;
  /** Groups of identical vectors cut at k: their distance and the lowest label returned (the rest are lower). */
  cuts?: { distance: number; lowest: number }[];
  /** The answer stopped at its label cap while points still tied with the k-th label. */
  capped?: boolean;
}

/**
 * An HNSW graph over unit vectors, keyed by the embeddings' labels (hnswlib-node, in memory; the
 * one place that package is imported). Inner-product space: for unit vectors the nearest are the
 * most cosine-similar. Grows its capacity as points are added.
 */
export class HnswIndex {
  /** Loads the native addon now: undefined when it loads, else why it does not. */
  static probe(): Error | undefined {
    try {
      hnswlib();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  private constructor(
    private readonly graph: Hnswlib.HierarchicalNSW,
    readonly dimensions: number,
  ) {
    graph.setEf(HNSW_PARAMETERS.efSearch);
  }

  /** An empty index for vectors of `dimensions`, with room for `capacity` before it grows. */
  static create(dimensions: number, capacity = 1024): HnswIndex {
    const graph = new (hnswlib().HierarchicalNSW)("ip", dimensions);
    graph.initIndex({
      maxElements: Math.max(16, capacity),
      m: HNSW_PARAMETERS.m,
      efConstruction: HNSW_PARAMETERS.efConstruction,
      randomSeed: 100,
    });
    return new HnswIndex(graph, dimensions);
  }

  /** Reads an index written by `save`; throws when the file is missing, truncated or not one. */
  static async load(file: string, dimensions: number): Promise<HnswIndex> {
    const graph = new (hnswlib().HierarchicalNSW)("ip", dimensions);
    await graph.readIndex(file);
    if (graph.getNumDimensions() !== dimensions) throw new Error("the index file has other dimensions");
    return new HnswIndex(graph, dimensions);
  }

  /** Points stored, including those marked deleted. */
  get size(): number {
    return this.graph.getCurrentCount();
  }

  /**
   * Adds a vector under its label (a label already present has its vector replaced). The caller
   * passes vectors of `dimensions` and labels up to `MAX_HNSW_LABEL`.
   */
  add(label: number, vector: Float32Array): void {
    const capacity = this.graph.getMaxElements();
    // An index saved empty loads with no room at all: it grows to at least 16.
    if (this.graph.getCurrentCount() >= capacity) this.graph.resizeIndex(Math.max(16, capacity * 2));
    this.graph.addPoint(Array.from(vector), label);
  }

  /** Marks a label deleted: searches no longer return it. Unknown labels are ignored. */
  remove(label: number): void {
    try {
      this.graph.markDelete(label);
    } catch {
      // Not in the index, or already deleted.
    }
  }

  /** The vector stored under a label; undefined when the label is not in the index or deleted. */
  getPoint(label: number): Float32Array | undefined {
    try {
      return Float32Array.from(this.graph.getPoint(label));
    } catch {
      return undefined;
    }
  }

  /** Every label stored, those marked deleted included. */
  labels(): number[] {
    return this.graph.getIdsList();
  }

  /** The `k` labels nearest to `query`, of `dimensions` (fewer when the index holds fewer). */
  search(query: Float32Array, k: number): NeighbourLabels {
    if (this.size === 0) return { labels: [], distances: [] };
    const asked = Math.max(1, Math.min(k, this.graph.getMaxElements()));
    const found = this.graph.searchKnn(Array.from(query), asked);
    return { labels: found.neighbors, distances: found.distances };
  }

  /** Writes the index to a file. */
  async save(file: string): Promise<void> {
    await this.graph.writeIndex(file);
  }
}
