import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { LabelledVector, LabelRange, MessageSearchStore } from "../store/message-search-store.js";
import { DistinctVectorIndex } from "./ann/distinct-vector-index.js";
import { HnswIndex, MAX_HNSW_LABEL, type NeighbourLabels } from "./ann/hnsw-index.js";

/** Rows read per query while building or catching up. */
const SCAN_BATCH = 5000;
/** Rows a search catches up at most before it answers (one query, one bounded batch of adds). */
const SEARCH_CATCH_UP_ROWS = 500;
/** Time spent adding points between two yields to the event loop, so requests keep being served. */
const ADD_SLICE_MS = 8;
/** Hole ranges looked up per query. */
const HOLE_LOOKUP_BATCH = 2000;
/** How often the index looks for new embeddings. */
const DEFAULT_POLL_MS = 2000;
/** A search catches up first when the last catch-up is older than this (and none is running). */
const FRESH_MS = 250;
/** How long after a failed build or load (the database unreachable) it is tried again. */
const RETRY_MS = 10_000;
/** How often the index is written to the data dir when it changed. */
const SAVE_INTERVAL_MS = 5 * 60_000;
/** Index files older than this that no sidecar names are left over by a crash. */
const STALE_FILE_MS = 60 * 60_000;
/** The share of dead labels (rows deleted or re-embedded) from which the index is rebuilt. */
const MAX_DEAD_SHARE = 0.25;
/** The sidecar's format (2: with a labels file); format 1 loads without aliases, another is rebuilt. */
const FORMAT = 2;

/** Where the index stands: building (searches use the exact scan) or ready. */
export type SemanticIndexState = "building" | "ready" | "stopped" | "disabled";

/**
 * Labels `[from, to)` a catch-up found missing below a label it read, looked up again at each poll.
 * `tag`: the next transaction id of a snapshot taken after the scan that found the gap (null until
 * the next poll takes one); once every transaction below it has ended, one last lookup retires it.
 */
interface Hole {
  from: number;
  to: number;
  tag: number | null;
}

/** What was persisted beside an index file. */
interface Sidecar {
  format: number;
  model: string;
  dimensions: number;
  /** The index file (in the same folder) this sidecar describes, and its size. */
  file: string;
  bytes: number;
  watermark: number;
  /** Single missing labels (what files of the first layout hold; written empty now). */
  holes: number[];
  /** The hole ranges `[from, to, tag]` (absent from files of the first layout). */
  holeRanges?: [number, number, number | null][];
  /** The index file's sha256 (hex); files of the first layout have none and load unchecked. */
  sha256?: string;
  /** The labels file (format 2: aliases and hash table, see DistinctVectorIndex.save), size, sha256. */
  labels?: { file: string; bytes: number; sha256: string; deadPoints?: number };
}

/** How the index came to be and what it did since (for logs and tests). */
export interface SemanticIndexStats {
  origin: "built" | "loaded" | null;
  /** Points added since the process started (building included). */
  added: number;
  /** Labels found gone by a search and marked deleted. */
  forgotten: number;
  saves: number;
  /** Rebuilds done to reclaim dead points. */
  rebuilds: number;
}

/** What a semantic index is built from. */
export interface SemanticIndexOptions {
  store: MessageSearchStore;
  /** Only vectors made with this model are indexed. */
  model: string;
  /** Where the index is persisted (`<dataDir>/semantic-index`); undefined: never persisted. */
  dir: string | undefined;
  pollMs?: number;
}

/**
 * The approximate nearest-neighbour index over the stored embeddings of one model, in this node's
 * memory, keyed by the embeddings' labels (unique integers never reused).
 *
 * Built in the background from the database in label order (the exact scan answers meanwhile),
 * then persisted to the data dir with its watermark (the highest label read), so a restart loads
 * the file and only catches up. Every `pollMs` it reads the rows above the watermark: that is how
 * each node of a deployment sees what any node's indexer wrote. Deleted or re-embedded rows are
 * not removed here: a search checks every label it returns against the database (the rows gone
 * are dropped from the answer and removed), see semantic-search.ts; when more than a quarter of
 * the labels are dead, `compact` rebuilds the graph in the background. Identical vectors (the same
 * text embedded in many conversations) share one graph point (ann/distinct-vector-index.ts).
 *
 * Labels committed out of order: a PostgreSQL sequence hands labels out at insert time, so a
 * transaction that took label 100 may commit after one that took 101, and a reader that already
 * moved its watermark to 101 would never see 100. So every gap in the labels a catch-up reads
 * (below the last one read) is remembered as a range and looked up again at each poll, with no
 * time limit: a range is retired only after one last lookup made once every transaction that was
 * running when the gap was seen has ended (the store's write horizon), so however late such a
 * transaction commits, its rows are found. Gaps that stay are deleted rows and rolled-back inserts;
 * they are retired after a poll or two, so ranges stay few. SQLite has one writer at a time: its
 * labels become visible in order and it has no holes.
 */
export class SemanticIndex {
  private index: DistinctVectorIndex | undefined;
  private watermark = 0;
  /** Label gaps below the watermark still looked for, in label order. */
  private holes: Hole[] = [];
  /** Whether labels can become visible out of order (the store has a write horizon). */
  private outOfOrder = true;
  private searchCatchUp: Promise<void> | undefined;
  private warnedDimensions = false;
  private state: SemanticIndexState = "building";
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  private busy = false;
  private stopping = false;
  private lastCatchUp = 0;
  private changedSinceSave = false;
  private lastSave = 0;
  private savedFile: string | undefined;
  private savedLabelsFile: string | undefined;
  private pendingForget: number[] = [];
  private logger: Logger | undefined;
  private opening: Promise<void> | undefined;
  /** The index being rebuilt in the background (dead points reclaimed), if any. */
  private rebuilding: SemanticIndex | undefined;
  /** How the index came to be and what it did since. */
  readonly stats: SemanticIndexStats = { origin: null, added: 0, forgotten: 0, saves: 0, rebuilds: 0 };

  constructor(private readonly options: SemanticIndexOptions) {
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** The model whose vectors it holds. */
  get model(): string {
    return this.options.model;
  }

  /** Whether searches can use it (built or loaded, and not stopped). */
  get ready(): boolean {
    return this.state === "ready" && this.index !== undefined;
  }

  /** Loads the persisted index or builds it, in the background, then polls for new embeddings. */
  start(logger?: Logger): void {
    this.logger = logger;
    this.stopping = false;
    if (this.state === "disabled") return;
    const missing = HnswIndex.probe();
    if (missing) {
      this.disable(
        { err: missing },
        "semantic index: the hnswlib-node native addon does not load; searches compare every vector. Reinstall it for this platform (npm rebuild hnswlib-node, or an image with a C++ toolchain), or set OPENCONVAI_SEMANTIC_INDEX=exact to silence this",
      );
      return;
    }
    this.opening = this.exclusive(() => this.open()).then(
      () => this.schedule(),
      (error: unknown) => {
        this.logger?.warn(
          { err: error },
          "semantic index: could not be built; searches compare every vector until a retry succeeds",
        );
        // The database may be unreachable for a while: try again later, from what was read so far.
        if (!this.stopping && this.state !== "disabled") {
          this.timer = setTimeout(() => this.start(logger), RETRY_MS);
          this.timer.unref();
        }
      },
    );
  }

  /** Waits until the index is ready (tests, benchmarks); rejects when opening failed. */
  async whenReady(): Promise<void> {
    await this.opening;
    if (this.state !== "ready") throw new Error("the semantic index is not ready");
  }

  /** Stops polling, waits for the work in flight and persists what changed. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.rebuilding) this.rebuilding.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.opening;
    await this.exclusive(async () => {
      if (this.state === "ready" && this.changedSinceSave) await this.save();
    });
    if (this.state !== "disabled") this.state = "stopped";
  }

  /**
   * Rebuilds the index when more than `MAX_DEAD_SHARE` of its labels are dead (`size` against the
   * model's live rows counted in the database): a new graph is built from the live rows in the background
   * while this one keeps answering, then swapped in (with its watermark and holes) and saved.
   * True when it rebuilt.
   */
  async compact(): Promise<boolean> {
    if (!this.ready || this.rebuilding || this.stopping || !this.index) return false;
    // Points marked deleted first (known without a query): a graph mostly of them slows every search.
    const { dead, points } = this.index;
    let live: number | undefined;
    if (points === 0 || dead <= MAX_DEAD_SHARE * points) {
      live = await this.options.store.countEmbeddings(this.options.model);
      if (this.size === 0 || live >= (1 - MAX_DEAD_SHARE) * this.size) return false;
    }
    this.logger?.info(
      { labels: this.size, points, deadPoints: dead, live },
      "semantic index: rebuilding to reclaim dead points",
    );
    const fresh = new SemanticIndex({ ...this.options, dir: undefined });
    fresh.logger = this.logger;
    this.rebuilding = fresh;
    try {
      fresh.outOfOrder = this.outOfOrder;
      await fresh.exclusive(() => fresh.readNew());
      if (this.stopping || fresh.stopping || fresh.state === "disabled" || !fresh.index) return false;
      await this.exclusive(async () => {
        this.index = fresh.index;
        // Rows written since are read at the next catch-up, from the new graph's watermark.
        this.watermark = fresh.watermark;
        this.holes = fresh.holes;
        this.changedSinceSave = true;
        this.stats.rebuilds++;
        if (this.options.dir) await this.save();
      });
      return true;
    } finally {
      this.rebuilding = undefined;
    }
  }

  /** Reads the rows written since the last catch-up (at once, after the work in flight). */
  async catchUp(): Promise<void> {
    await this.exclusive(() => this.readNew());
  }

  /**
   * The `k` labels nearest to `query`; undefined when the index cannot answer it (not ready, or a
   * query of other dimensions than the indexed vectors): the caller scans exactly. When the last
   * catch-up is older than `FRESH_MS` and none is running, first reads at most one bounded batch
   * of new rows (concurrent searches share it; one that fails is logged, not the search's error).
   */
  async search(query: Float32Array, k: number): Promise<NeighbourLabels | undefined> {
    if (!this.busy && !this.searchCatchUp && Date.now() - this.lastCatchUp > FRESH_MS) {
      const catchUp = this.exclusive(() =>
        this.readNew({ holes: false, rows: SEARCH_CATCH_UP_ROWS, batches: 1 }),
      )
        .catch((error: unknown) =>
          this.logger?.warn({ err: error }, "semantic index: catch-up before a search failed"),
        )
        .finally(() => {
          if (this.searchCatchUp === catchUp) this.searchCatchUp = undefined;
        });
      this.searchCatchUp = catchUp;
    }
    if (this.searchCatchUp) await this.searchCatchUp;
    if (!this.ready || !this.index || query.length !== this.index.dimensions) return undefined;
    return this.index.search(query, k);
  }

  /** Labels a search found gone from the database: marked deleted at the next catch-up. */
  forget(labels: readonly number[]): void {
    // One by one: a spread of a very long list overflows the call stack.
    for (const label of labels) this.pendingForget.push(label);
  }

  /** Label ranges still looked for (labels that may yet commit below the watermark). */
  get holeCount(): number {
    return this.holes.length;
  }

  /** Where the index stands. */
  get status(): SemanticIndexState {
    return this.state;
  }

  /**
   * Labels the index holds, each point marked deleted counting as one (see
   * DistinctVectorIndex.size): what the dead share is measured against.
   */
  get size(): number {
    return this.index?.size ?? 0;
  }

  private schedule(): void {
    if (this.stopping || this.state === "disabled") return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.exclusive(async () => {
        await this.readNew();
        if (this.options.dir && this.changedSinceSave && Date.now() - this.lastSave > SAVE_INTERVAL_MS) {
          await this.save();
          // In the background: the rebuild takes the work queue only to swap the graphs.
          this.compact().catch((error: unknown) =>
            this.logger?.warn(
              { err: error },
              "semantic index: the rebuild failed; the index keeps its dead points",
            ),
          );
        }
      })
        .catch((error: unknown) => this.logger?.warn({ err: error }, "semantic index: catch-up failed"))
        .finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  /** Runs `task` after the work in flight: adding points never overlaps a save or another catch-up. */
  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.work.then(async () => {
      this.busy = true;
      try {
        await task();
      } finally {
        this.busy = false;
      }
    });
    this.work = run.catch(() => {});
    return run;
  }

  private async open(): Promise<void> {
    const started = Date.now();
    this.outOfOrder = (await this.options.store.embeddingWriteHorizon()) !== null;
    if (await this.load()) {
      this.stats.origin = "loaded";
      this.state = "ready";
      this.logger?.info(
        {
          labels: this.size,
          points: this.index?.points,
          watermark: this.watermark,
          ms: Date.now() - started,
        },
        "semantic index: loaded from the data dir",
      );
      await this.readNew();
      return;
    }
    this.stats.origin = "built";
    await this.readNew();
    // Stopped (or disabled) during the build: what was added is consistent, but not saved as built.
    if (this.stopping || this.state === "disabled") return;
    this.state = "ready";
    this.logger?.info(
      { labels: this.size, points: this.index?.points, watermark: this.watermark, ms: Date.now() - started },
      "semantic index: built",
    );
    if (this.options.dir) await this.save();
  }

  /**
   * Adds the rows above the watermark (at most `batches` batches of `rows`) and (with `holes`)
   * those of the holes that appeared; marks forgotten labels deleted. Each batch leaves the
   * watermark and the holes consistent, so stopping between two batches loses nothing.
   */
  private async readNew({
    holes = true,
    rows: batchRows = SCAN_BATCH,
    batches = Infinity,
  } = {}): Promise<void> {
    const { store, model } = this.options;
    if (this.state === "disabled") return;
    const forget = this.pendingForget.splice(0);
    for (const label of forget) {
      this.index?.remove(label);
      this.stats.forgotten++;
      this.changedSinceSave = true;
    }
    for (let batch = 0; batch < batches; batch++) {
      if (this.stopping) return;
      const rows = await store.scanLabelledVectors(model, this.watermark, batchRows);
      // Rows of another model move the watermark without being indexed.
      const added = await this.addAll(rows.filter((row): row is LabelledVector => row.vector !== null));
      if (!added) return;
      if (this.outOfOrder) {
        let expected = this.watermark + 1;
        for (const row of rows) {
          if (row.label > expected) this.holes.push({ from: expected, to: row.label, tag: null });
          expected = row.label + 1;
        }
      }
      const last = rows[rows.length - 1];
      if (last) this.watermark = last.label;
      if (rows.length < batchRows) break;
    }
    if (holes) await this.recheckHoles();
    this.lastCatchUp = Date.now();
  }

  /**
   * Looks the holes up again. A hole whose tag every running transaction is past (all those that
   * could still commit a row in it have ended, as of a snapshot taken before this lookup) is
   * retired after this lookup; one without a tag gets the snapshot's next transaction id.
   */
  private async recheckHoles(): Promise<void> {
    if (this.holes.length === 0) return;
    const { store, model } = this.options;
    const horizon = await store.embeddingWriteHorizon();
    const found: LabelledVector[] = [];
    for (let i = 0; i < this.holes.length; i += HOLE_LOOKUP_BATCH) {
      const ranges: LabelRange[] = this.holes.slice(i, i + HOLE_LOOKUP_BATCH).map((h) => [h.from, h.to]);
      found.push(...(await store.findLabelledVectorsInRanges(model, ranges)));
    }
    if (!(await this.addAll(found))) return;
    const present = found.map((row) => row.label).sort((a, b) => a - b);
    const kept: Hole[] = [];
    let at = 0;
    for (const hole of this.holes) {
      const final = horizon === null || (hole.tag !== null && horizon.oldestRunning >= hole.tag);
      const tag = hole.tag ?? horizon?.next ?? null;
      while (at < present.length && (present[at] as number) < hole.from) at++;
      // The labels found are indexed: what stays of the hole is the gaps between them.
      let from = hole.from;
      while (at < present.length && (present[at] as number) < hole.to) {
        const label = present[at] as number;
        if (!final && label > from) kept.push({ from, to: label, tag });
        from = label + 1;
        at++;
      }
      if (!final && from < hole.to) kept.push({ from, to: hole.to, tag });
    }
    this.holes = kept;
  }

  /**
   * Adds rows to the index, yielding to the event loop every `ADD_SLICE_MS`. Vectors of other
   * dimensions than the index's are skipped (logged); a label the addon cannot hold disables the
   * index (false: nothing more is read).
   */
  private async addAll(rows: readonly LabelledVector[]): Promise<boolean> {
    let slice = performance.now();
    let skipped = 0;
    for (const row of rows) {
      if (row.label > MAX_HNSW_LABEL) {
        this.disable(
          { label: row.label },
          "semantic index: an embedding label is above 4,294,967,295, which the HNSW addon cannot hold; the index is off and searches compare every vector",
        );
        return false;
      }
      this.index ??= DistinctVectorIndex.create(row.vector.length, SCAN_BATCH);
      if (row.vector.length !== this.index.dimensions) {
        skipped++;
        continue;
      }
      this.index.add(row.label, row.vector);
      this.stats.added++;
      this.changedSinceSave = true;
      if (performance.now() - slice > ADD_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
    if (skipped > 0 && !this.warnedDimensions) {
      this.warnedDimensions = true;
      this.logger?.warn(
        { skipped, dimensions: this.index?.dimensions },
        "semantic index: embeddings of other dimensions than the index's are skipped (made by another configuration of the model?)",
      );
    }
    return true;
  }

  /** Turns the index off for good (searches are exact): logs why, once, and frees its memory. */
  private disable(details: object, message: string): void {
    if (this.state === "disabled") return;
    this.state = "disabled";
    this.index = undefined;
    this.holes = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.logger?.warn(details, message);
  }

  private paths(): { dir: string; sidecar: string; prefix: string } | undefined {
    const { dir, model } = this.options;
    if (!dir) return undefined;
    const prefix = `index-${createHash("sha256").update(model).digest("hex").slice(0, 16)}`;
    return { dir, sidecar: path.join(dir, `${prefix}.json`), prefix };
  }

  /** Loads the persisted index; false (nothing loaded) when there is none or it does not fit. */
  private async load(): Promise<boolean> {
    const where = this.paths();
    if (!where) return false;
    let sidecar: Sidecar;
    try {
      sidecar = JSON.parse(await readFile(where.sidecar, "utf8")) as Sidecar;
    } catch {
      return false;
    }
    const labels = sidecar.labels;
    const fits =
      (sidecar.format === FORMAT || sidecar.format === 1) &&
      (sidecar.format === 1 ||
        (typeof labels?.file === "string" &&
          /^[\w.-]+$/.test(labels.file) &&
          Number.isInteger(labels.bytes) &&
          typeof labels.sha256 === "string")) &&
      sidecar.model === this.options.model &&
      Number.isInteger(sidecar.dimensions) &&
      Number.isInteger(sidecar.watermark) &&
      typeof sidecar.file === "string" &&
      /^[\w.-]+$/.test(sidecar.file) &&
      Number.isInteger(sidecar.bytes) &&
      Array.isArray(sidecar.holes) &&
      (sidecar.holeRanges === undefined || Array.isArray(sidecar.holeRanges)) &&
      (sidecar.sha256 === undefined || typeof sidecar.sha256 === "string");
    // A watermark above every label this database ever handed out: the file belongs to another database.
    if (!fits || sidecar.watermark > (await this.options.store.highestEmbeddingLabel())) {
      this.logger?.warn("semantic index: the persisted index does not match this database; rebuilding");
      return false;
    }
    const file = path.join(where.dir, sidecar.file);
    try {
      // A file of another size is not the one the sidecar describes (cut short, or overwritten).
      if ((await stat(file)).size !== sidecar.bytes) throw new Error("the index file has another size");
      if (sidecar.sha256 !== undefined && (await sha256Of(file)) !== sidecar.sha256)
        throw new Error("the index file's sha256 differs from its sidecar's");
      let labelsFile: string | undefined;
      if (sidecar.format !== 1 && labels) {
        labelsFile = path.join(where.dir, labels.file);
        if ((await stat(labelsFile)).size !== labels.bytes)
          throw new Error("the labels file has another size");
        if ((await sha256Of(labelsFile)) !== labels.sha256)
          throw new Error("the labels file's sha256 differs from its sidecar's");
      }
      const deadPoints = Number.isInteger(labels?.deadPoints) ? (labels?.deadPoints as number) : 0;
      this.index = await DistinctVectorIndex.load(file, labelsFile, sidecar.dimensions, deadPoints);
    } catch (error) {
      this.logger?.warn({ err: error }, "semantic index: the persisted index could not be read; rebuilding");
      return false;
    }
    this.watermark = sidecar.watermark;
    // Single labels of the first layout get a tag at the next poll, like a gap just seen.
    const holes: Hole[] = sidecar.holes
      .filter(Number.isInteger)
      .map((label) => ({ from: label, to: label + 1, tag: null }));
    for (const range of sidecar.holeRanges ?? []) {
      const [from, to, tag] = Array.isArray(range) ? range : [];
      if (Number.isInteger(from) && Number.isInteger(to) && (tag === null || Number.isInteger(tag)))
        holes.push({ from: from as number, to: to as number, tag: tag as number | null });
    }
    this.holes = holes.sort((a, b) => a.from - b.from);
    // Identical points of a format-1 file turned into aliases: saved, then compacted, at the next poll.
    if (sidecar.format === 1 && this.index.aliases > 0) this.changedSinceSave = true;
    this.savedFile = sidecar.file;
    this.savedLabelsFile = sidecar.format === 1 ? undefined : labels?.file;
    await this.removeStaleFiles(where.dir, where.prefix, [sidecar.file, this.savedLabelsFile]);
    return true;
  }

  /**
   * Removes this model's index files other than those in `keep` left over by processes that stopped before
   * removing them (a crash); only those older than an hour, so a file another node sharing the
   * data dir has just written stays.
   */
  private async removeStaleFiles(dir: string, prefix: string, keep: (string | undefined)[]): Promise<void> {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(`${prefix}-`) || keep.includes(name)) continue;
      const file = path.join(dir, name);
      const stats = await stat(file).catch(() => undefined);
      if (stats && Date.now() - stats.mtimeMs > STALE_FILE_MS) await rm(file, { force: true });
    }
  }

  /**
   * Writes the index to a file of its own (a random name: nodes sharing a data dir never write the
   * same file) and its labels file beside it, then the sidecar naming both with their sha256;
   * each written to a temporary file, flushed to disk and renamed (the folder flushed too), so a
   * reader sees a whole file or the previous one, even after a power loss.
   */
  private async save(): Promise<void> {
    const where = this.paths();
    if (!where || !this.index) return;
    await mkdir(where.dir, { recursive: true });
    const id = randomUUID();
    const file = `${where.prefix}-${id}.hnsw`;
    const labelsFile = `${where.prefix}-${id}.labels`;
    const temp = path.join(where.dir, `${file}.tmp`);
    const labelsTemp = path.join(where.dir, `${labelsFile}.tmp`);
    await this.index.save(temp, labelsTemp);
    await syncFile(temp);
    await syncFile(labelsTemp);
    const sha256 = await sha256Of(temp);
    const labels = {
      file: labelsFile,
      bytes: (await stat(labelsTemp)).size,
      sha256: await sha256Of(labelsTemp),
      deadPoints: this.index.dead,
    };
    await rename(temp, path.join(where.dir, file));
    await rename(labelsTemp, path.join(where.dir, labelsFile));
    const sidecar: Sidecar = {
      format: FORMAT,
      model: this.options.model,
      dimensions: this.index.dimensions,
      file,
      bytes: (await stat(path.join(where.dir, file))).size,
      watermark: this.watermark,
      holes: [],
      holeRanges: this.holes.map((h) => [h.from, h.to, h.tag]),
      sha256,
      labels,
    };
    const sidecarTemp = path.join(where.dir, `${where.prefix}-${id}.json.tmp`);
    await writeFile(sidecarTemp, JSON.stringify(sidecar));
    await syncFile(sidecarTemp);
    await syncFile(where.dir);
    await rename(sidecarTemp, where.sidecar);
    await syncFile(where.dir);
    if (this.savedFile && this.savedFile !== file)
      await rm(path.join(where.dir, this.savedFile), { force: true });
    if (this.savedLabelsFile && this.savedLabelsFile !== labelsFile)
      await rm(path.join(where.dir, this.savedLabelsFile), { force: true });
    this.savedFile = file;
    this.savedLabelsFile = labelsFile;
    this.changedSinceSave = false;
    this.lastSave = Date.now();
    this.stats.saves++;
  }
}

/** Flushes a file (or a folder's entries) to disk. */
async function syncFile(file: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file's sha256 (hex), read as a stream. */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
