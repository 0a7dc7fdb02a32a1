/**
 * Identical vectors in the semantic ANN index (the same text embedded in many conversations): one
 * graph point per distinct vector, the other labels its aliases. The index alone: a point shared,
 * removals that keep the vector searchable, hash collisions never merged, save and load, an index
 * written before aliases existed, and recall where a plain HNSW graph collapses. Then on real
 * SQLite and PostgreSQL: searches find every copy, and deleted copies stay gone across a restart.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import type { EmbeddingsModel } from "../src/providers/embeddings/embeddings-model.js";
import { DistinctVectorIndex, vectorHash } from "../src/search/ann/distinct-vector-index.js";
import { HnswIndex } from "../src/search/ann/hnsw-index.js";
import { decodeSearchCursor, type SearchCursor } from "../src/search/search-cursor.js";
import { SemanticIndex } from "../src/search/semantic-index.js";
import { searchMessagesBySimilarity } from "../src/search/semantic-search.js";
import type { Database } from "../src/store/store.js";
import { BASE_START_TIME, buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage } from "./support/backends.js";

const MODEL = "toy-model";

/** A seeded random generator (mulberry32), so a failure can be replayed. */
function randomFrom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVector(random: () => number, dimensions: number): Float32Array {
  const v = Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "openconvai-dv-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("the distinct-vector index", () => {
  const random = randomFrom(3);
  const greeting = unitVector(random, 16);
  const others = Array.from({ length: 20 }, () => unitVector(random, 16));

  /** Labels 1–10 hold the greeting, 11–30 a vector each. */
  function build(): DistinctVectorIndex {
    const index = DistinctVectorIndex.create(16);
    for (let label = 1; label <= 10; label++) index.add(label, Float32Array.from(greeting));
    for (const [i, vector] of others.entries()) index.add(11 + i, vector);
    return index;
  }

  it("keeps identical vectors as one graph point and returns all their labels, highest first", () => {
    const index = build();
    expect(index.points).toBe(21);
    expect(index.aliases).toBe(9);
    expect(index.size).toBe(30);
    const found = index.search(greeting, 10);
    expect(found.labels).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(new Set(found.distances).size).toBe(1);
    // Fewer than asked only when the graph has nothing more: 4 of the 10 copies, then all 30 labels.
    expect(index.search(greeting, 4).labels).toEqual([10, 9, 8, 7]);
    const all = index.search(greeting, 50);
    expect(all.labels.length).toBe(30);
    expect(new Set(all.labels).size).toBe(30);
    expect(all.labels.slice(0, 10)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // Adding a label again changes nothing.
    index.add(1, greeting);
    index.add(5, greeting);
    expect(index.size).toBe(30);
    expect(index.search(greeting, 50).labels.length).toBe(30);
  });

  it("keeps a vector found when its point's label is removed, and drops it with its last label", () => {
    const index = build();
    index.remove(1);
    expect(index.search(greeting, 9).labels).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2]);
    // The point moved to another label: the old one is a dead point, the label count is unchanged.
    expect(index.points).toBe(22);
    expect(index.dead).toBe(1);
    expect(index.size).toBe(30);
    // An alias removed is forgotten: one label fewer.
    index.remove(7);
    expect(index.size).toBe(29);
    for (const label of [2, 3, 4, 5, 6, 8, 9]) index.remove(label);
    expect(index.search(greeting, 1).labels).toEqual([10]);
    index.remove(10);
    expect(index.search(greeting, 50).labels.some((label) => label <= 10)).toBe(false);
    expect(index.search(greeting, 50).labels.length).toBe(20);
    // Removing again, or an unknown label, is ignored; the same vector added later is found again.
    index.remove(10);
    index.remove(999);
    index.add(31, greeting);
    index.add(32, greeting);
    expect(index.search(greeting, 2).labels).toEqual([32, 31]);
  });

  it("returns a group's labels highest first when they arrive out of order and most are removed", () => {
    const index = DistinctVectorIndex.create(16);
    // The point's label (50) sits among its aliases; aliases arrive out of label order.
    for (const label of [50, 70, 20, 90, 10, 60, 80, 30, 40]) index.add(label, Float32Array.from(greeting));
    expect(index.points).toBe(1);
    expect(index.search(greeting, 9).labels).toEqual([90, 80, 70, 60, 50, 40, 30, 20, 10]);
    expect(index.search(greeting, 3).labels).toEqual([90, 80, 70]);
    // Removing most aliases (the kept order is compacted past half) leaves the rest in order.
    for (const label of [90, 70, 30, 20, 10]) index.remove(label);
    expect(index.search(greeting, 9).labels).toEqual([80, 60, 50, 40]);
    // A label added later below the highest is still placed in order.
    index.add(55, Float32Array.from(greeting));
    expect(index.search(greeting, 9).labels).toEqual([80, 60, 55, 50, 40]);
    // The point's own label removed: one alias takes the point over, the order holds.
    index.remove(50);
    expect(index.search(greeting, 9).labels).toEqual([80, 60, 55, 40]);
    expect(index.search(greeting, 2).labels).toEqual([80, 60]);
  });

  it("takes every point as near as the k-th label, a group's labels capped at k", () => {
    const index = DistinctVectorIndex.create(16);
    const unit = (at: number[]): Float32Array => {
      const v = new Float32Array(16);
      for (const [i, x] of at.entries()) v[i] = x;
      return v.map((x) => x / Math.hypot(...v));
    };
    const query = unit([1]);
    // A and B are equally near the query; C is farther.
    for (let label = 1; label <= 20; label++) index.add(label, unit([0.8, 0.6]));
    index.add(21, unit([0.8, 0, 0.6]));
    index.add(22, unit([0.5, 0, 0, 0.5]));
    const found = index.search(query, 10);
    // A's ten highest labels, and B's (the highest label of all: first among equal scores), not C.
    expect([...found.labels].sort((a, b) => b - a)).toEqual([21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
    expect(found.nextDistance).toBeCloseTo(1 - Math.SQRT1_2, 6);
  });

  it("stops at four times k labels when many points tie with the k-th, saying so", () => {
    const index = DistinctVectorIndex.create(16);
    const query = new Float32Array(16);
    query[0] = 1;
    // Ten vectors equally near the query, six labels each.
    let label = 0;
    for (let d = 1; d <= 10; d++) {
      const v = new Float32Array(16);
      v[0] = 0.8;
      v[d] = 0.6;
      for (let copy = 0; copy < 6; copy++) index.add(++label, Float32Array.from(v));
    }
    // k 6: six points of six labels each tie, 36 labels; the answer stops at 24 and says so.
    const found = index.search(query, 6);
    expect(found.capped).toBe(true);
    expect(found.labels.length).toBe(24);
    const all = index.search(query, 60);
    expect(all.capped).toBeUndefined();
    expect(all.labels.length).toBe(60);
    expect(all.nextDistance).toBeUndefined();
  });

  it("takes points again after it was saved empty and loaded", async () => {
    const dir = await tempDir();
    const empty = HnswIndex.create(16);
    await empty.save(path.join(dir, "empty.hnsw"));
    const loaded = await HnswIndex.load(path.join(dir, "empty.hnsw"), 16);
    loaded.add(1, greeting);
    loaded.add(2, others[0] as Float32Array);
    expect(loaded.search(greeting, 1).labels).toEqual([1]);
  });

  it("never merges different vectors whose hashes collide", () => {
    const collide = randomFrom(99);
    const seen = new Map<number, Float32Array>();
    let pair: [Float32Array, Float32Array] | undefined;
    for (let i = 0; i < 1_000_000 && !pair; i++) {
      const v = unitVector(collide, 4);
      const hash = vectorHash(v);
      const earlier = seen.get(hash);
      if (earlier?.some((x, at) => x !== v[at])) pair = [earlier, v];
      else seen.set(hash, v);
    }
    if (!pair) throw new Error("no collision found");
    const [a, b] = pair;
    const index = DistinctVectorIndex.create(4);
    index.add(1, a);
    index.add(2, b);
    index.add(3, Float32Array.from(b));
    expect(index.points).toBe(2);
    expect(index.search(b, 2).labels).toEqual([3, 2]);
    index.remove(2);
    index.add(4, Float32Array.from(a));
    expect(index.search(a, 2).labels).toEqual([4, 1]);
    expect(index.search(b, 1).labels).toEqual([3]);
  });

  it("keeps its aliases across save and load, deleted ones staying deleted", async () => {
    const dir = await tempDir();
    const index = build();
    index.remove(1);
    index.remove(4);
    await index.save(path.join(dir, "graph.hnsw"), path.join(dir, "graph.labels"));
    const loaded = await DistinctVectorIndex.load(
      path.join(dir, "graph.hnsw"),
      path.join(dir, "graph.labels"),
      16,
    );
    expect(loaded.points).toBe(index.points);
    expect(loaded.aliases).toBe(7);
    expect(loaded.size).toBe(index.size);
    expect(loaded.search(greeting, 50).labels).toEqual(index.search(greeting, 50).labels);
    expect(loaded.search(greeting, 8).labels).toEqual([10, 9, 8, 7, 6, 5, 3, 2]);
    // The hash table was rebuilt: a new copy is an alias, and removals still hand the point over.
    loaded.add(40, greeting);
    expect(loaded.points).toBe(index.points);
    for (const label of [2, 3, 5, 6, 7, 8, 9]) loaded.remove(label);
    expect(loaded.search(greeting, 2).labels).toEqual([40, 10]);
  });

  it("loads a graph written before aliases existed, its identical points turned into aliases", async () => {
    const dir = await tempDir();
    const plain = HnswIndex.create(16);
    for (let label = 1; label <= 10; label++) plain.add(label, greeting);
    for (const [i, vector] of others.entries()) plain.add(11 + i, vector);
    await plain.save(path.join(dir, "old.hnsw"));
    const loaded = await DistinctVectorIndex.load(path.join(dir, "old.hnsw"), undefined, 16);
    expect(loaded.aliases).toBe(9);
    // The 9 copies' points stay in the graph, marked deleted: counted, so a rebuild can reclaim them.
    expect(loaded.points).toBe(30);
    expect(loaded.dead).toBe(9);
    expect(loaded.search(greeting, 10).labels).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(loaded.search(greeting, 50).labels.length).toBe(30);
    // The point's label removed: its heir was a point of the old graph (marked deleted), alive again.
    loaded.remove(1);
    expect(loaded.points).toBe(30);
    expect(loaded.dead).toBe(9);
    expect(loaded.search(greeting, 9).labels).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2]);
    for (const label of [2, 3, 4, 5, 6, 7, 8, 9, 10]) loaded.remove(label);
    expect(loaded.search(greeting, 50).labels.some((label) => label <= 10)).toBe(false);
  });

  it("finds at least 95% of the top 10 where 9,000 of 12,000 vectors are copies of 30", () => {
    const dimensions = 64;
    const rand = randomFrom(5);
    const distinct = Array.from({ length: 30 }, () => unitVector(rand, dimensions));
    const vectors: Float32Array[] = [];
    for (const vector of distinct) for (let copy = 0; copy < 300; copy++) vectors.push(vector);
    for (let i = 0; i < 3000; i++) vectors.push(unitVector(rand, dimensions));
    // Copies arrive interleaved with other rows, as greetings do.
    for (let i = vectors.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [vectors[i], vectors[j]] = [vectors[j] as Float32Array, vectors[i] as Float32Array];
    }
    const index = DistinctVectorIndex.create(dimensions);
    for (const [i, vector] of vectors.entries()) index.add(i + 1, vector);
    expect(index.points).toBe(3030);
    let found = 0;
    for (let q = 0; q < 30; q++) {
      const query = unitVector(rand, dimensions);
      const tenth = vectors.map((v) => dot(query, v)).sort((a, b) => b - a)[9] as number;
      // At least 10 (more when vectors tie with the 10th), nearest first: the first 10 count.
      const all = index.search(query, 10).labels;
      expect(all.length).toBeGreaterThanOrEqual(10);
      const labels = all.slice(0, 10);
      // A label counts when its exact similarity reaches the exact 10th best (ties are equal).
      found += labels.filter(
        (label) => dot(query, vectors[label - 1] as Float32Array) >= tenth - 1e-5,
      ).length;
    }
    expect(found / 300).toBeGreaterThanOrEqual(0.95);
  });
});

describe.each(BACKENDS)("identical vectors in the semantic ANN index on %s", (backend) => {
  const DIMENSIONS = 32;

  function queryModel(vector: Float32Array): EmbeddingsModel {
    return { model: MODEL, embed: async () => [vector] } as unknown as EmbeddingsModel;
  }

  /** A database of this backend, closed and removed after the test. */
  async function openStorage(): Promise<{ storage: ReturnType<typeof createTestStorage>; db: Database }> {
    const storage = createTestStorage(backend);
    const db = await storage.open();
    cleanups.push(async () => {
      await db.close();
      await storage.cleanup();
    });
    return { storage, db };
  }

  /**
   * Stores conversations whose chunk 0 is the same greeting and chunk 1 a vector of its own, and
   * embeds them; answers each one's `updatedAt` (to embed it again).
   */
  async function storeGreetings(
    db: Database,
    ids: readonly string[],
    greeting: Float32Array,
  ): Promise<Map<string, number>> {
    const updatedAt = new Map<string, number>();
    const random = randomFrom(61);
    for (const [i, id] of ids.entries()) {
      const doc = buildConversation({ id, agentId: "agent_a", startTime: BASE_START_TIME + i });
      await db.conversations.putConversation(buildConversationRecord(doc));
    }
    const pending = await db.messageSearch.findPendingEmbeddings(MODEL, 1000);
    for (const item of pending.filter((p) => ids.includes(p.conversationId))) {
      const rows = [0, 1].map((chunk) => ({
        transcriptIndex: 0,
        chunk,
        chunkText: `${item.conversationId} chunk ${chunk}`,
        vector: chunk === 0 ? Float32Array.from(greeting) : unitVector(random, DIMENSIONS),
      }));
      const state = { model: MODEL, updatedAt: item.updatedAt, textHash: `h-${item.conversationId}` };
      expect(await db.messageSearch.replaceEmbeddings(item.conversationId, state, rows)).toBe(true);
      updatedAt.set(item.conversationId, item.updatedAt);
    }
    return updatedAt;
  }

  it("finds every copy of a repeated vector, and deleted copies stay gone after a restart", async () => {
    const { storage, db } = await openStorage();
    const dir = path.join(storage.dataDir, "semantic-index");
    const greeting = unitVector(randomFrom(59), DIMENSIONS);
    const ids = Array.from({ length: 30 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeGreetings(db, ids, greeting);
    const first = new SemanticIndex({ store: db.messageSearch, model: MODEL, dir, pollMs: 60_000 });
    first.start();
    cleanups.push(() => first.stop());
    await first.whenReady();
    expect(first.size).toBe(60);

    const search = (index: SemanticIndex | undefined, pageSize: number) =>
      searchMessagesBySimilarity(db.messageSearch, db.conversations, queryModel(greeting), {
        text: "q",
        filter: {},
        pageSize,
        cursor: null,
        index,
      });
    const ann = await search(first, 30);
    expect(ann.index).toBe("ann");
    expect(ann.page.results.map((r) => r.chunk_text).sort()).toEqual(ids.map((id) => `${id} chunk 0`));
    expect(ann.page.results.every((r) => r.score === 1)).toBe(true);

    // Delete the conversation holding the point's label (the lowest) and one holding an alias.
    const labels = (await first.search(greeting, 30))?.labels ?? [];
    expect(labels.length).toBe(30);
    const rows = await db.messageSearch.findChunksByLabel(MODEL, labels, {});
    const ownerOf = new Map(rows.map((row) => [row.label, row.conversationId]));
    const rep = Math.min(...labels);
    const alias = labels[5] as number;
    for (const label of [rep, alias]) await db.conversations.deleteConversation(ownerOf.get(label) as string);
    // The search finds both gone (and forgets them); the next catch-up removes them from the index.
    const greetings = (answer: Awaited<ReturnType<typeof search>>) =>
      answer.page.results.filter((r) => r.score === 1).map((r) => r.conversation_id);
    const afterDelete = await search(first, 30);
    expect(afterDelete.index).toBe("ann");
    expect(greetings(afterDelete).length).toBe(28);
    expect(greetings(afterDelete)).not.toContain(ownerOf.get(rep));
    await first.catchUp();
    const copies = async (index: SemanticIndex) =>
      ((await index.search(greeting, 60))?.labels ?? []).filter((label) => labels.includes(label));
    const kept = await copies(first);
    expect(kept.length).toBe(28);
    expect(kept).not.toContain(rep);
    expect(kept).not.toContain(alias);
    await first.stop();
    expect((await readdir(dir)).filter((name) => name.endsWith(".labels")).length).toBe(1);

    const second = new SemanticIndex({ store: db.messageSearch, model: MODEL, dir, pollMs: 60_000 });
    second.start();
    cleanups.push(() => second.stop());
    await second.whenReady();
    expect(second.stats.origin).toBe("loaded");
    expect(second.stats.added).toBe(0);
    expect(second.size).toBe(first.size);
    expect(await copies(second)).toEqual(kept);
    const reloaded = await search(second, 30);
    expect(reloaded.index).toBe("ann");
    expect(greetings(reloaded).sort()).toEqual(greetings(afterDelete).sort());
  });

  it("pages through a group of identical vectors larger than a page in the exact scan's order, skipping none", async () => {
    const { db } = await openStorage();
    const greeting = unitVector(randomFrom(71), DIMENSIONS);
    const ids = Array.from({ length: 150 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    const updatedAt = await storeGreetings(db, ids, greeting);
    // The oldest half embedded again (same vector, new higher labels): label order is no longer
    // start-time order, which is where a group cut at k used to lose rows between pages.
    for (const id of ids.slice(0, 75)) {
      const state = { model: MODEL, updatedAt: 0, textHash: `again-${id}` };
      const rows = [
        { transcriptIndex: 0, chunk: 0, chunkText: `${id} chunk 0`, vector: Float32Array.from(greeting) },
      ];
      const replaced = await db.messageSearch.replaceEmbeddings(
        id,
        { ...state, updatedAt: updatedAt.get(id) ?? 0 },
        rows,
      );
      expect(replaced).toBe(true);
    }
    // A vector a hair away from the greeting (another text, or a provider's float noise), embedded
    // last: its score rounds to the greeting's, so it comes first among them (highest label), though
    // the graph finds it after the whole group.
    const near = Float32Array.from(greeting);
    near[0] = (near[0] as number) + 5e-4;
    const norm = Math.hypot(...near);
    const nearVector = near.map((x) => x / norm);
    const nearId = "conv_near";
    await db.conversations.putConversation(
      buildConversationRecord(
        buildConversation({ id: nearId, agentId: "agent_a", startTime: BASE_START_TIME + 500 }),
      ),
    );
    const nearPending = (await db.messageSearch.findPendingEmbeddings(MODEL, 1000)).find(
      (p) => p.conversationId === nearId,
    );
    expect(
      await db.messageSearch.replaceEmbeddings(
        nearId,
        { model: MODEL, updatedAt: nearPending?.updatedAt ?? 0, textHash: "near" },
        [{ transcriptIndex: 0, chunk: 0, chunkText: `${nearId} chunk 0`, vector: nearVector }],
      ),
    ).toBe(true);
    const index = new SemanticIndex({
      store: db.messageSearch,
      model: MODEL,
      pollMs: 60_000,
      dir: undefined,
    });
    index.start();
    cleanups.push(() => index.stop());
    await index.whenReady();
    const pageThrough = async (with_: SemanticIndex | undefined) => {
      const seen: string[] = [];
      const answered = new Set<string>();
      let cursor: SearchCursor | null = null;
      for (let page = 0; page < 40; page++) {
        const answer = await searchMessagesBySimilarity(
          db.messageSearch,
          db.conversations,
          queryModel(greeting),
          {
            text: "q",
            filter: {},
            pageSize: 10,
            cursor,
            index: with_,
          },
        );
        answered.add(answer.index);
        seen.push(...answer.page.results.filter((r) => r.score === 1).map((r) => r.conversation_id));
        if (!answer.page.next_cursor) break;
        cursor = decodeSearchCursor(answer.page.next_cursor) ?? null;
      }
      return { seen, answered };
    };
    const exact = await pageThrough(undefined);
    expect(exact.answered).toEqual(new Set(["exact"]));
    expect([...exact.seen].sort()).toEqual([...ids, nearId].sort());
    expect(exact.seen[0]).toBe(nearId);
    const ann = await pageThrough(index);
    expect(ann.answered.has("ann")).toBe(true);
    expect(ann.seen).toEqual(exact.seen);
  });

  it("answers a page right when the newest copies of a group are gone from the database before the index knows", async () => {
    const { db } = await openStorage();
    const greeting = unitVector(randomFrom(73), DIMENSIONS);
    const ids = Array.from({ length: 120 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    // Only the greeting in each (the graph holds a single point, fewer than a search asks for).
    for (const [i, id] of ids.entries()) {
      const doc = buildConversation({ id, agentId: "agent_a", startTime: BASE_START_TIME + i });
      await db.conversations.putConversation(buildConversationRecord(doc));
    }
    for (const item of await db.messageSearch.findPendingEmbeddings(MODEL, 1000)) {
      const rows = [
        { transcriptIndex: 0, chunk: 0, chunkText: `${item.conversationId} hi`, vector: greeting },
      ];
      const state = { model: MODEL, updatedAt: item.updatedAt, textHash: `h-${item.conversationId}` };
      expect(await db.messageSearch.replaceEmbeddings(item.conversationId, state, rows)).toBe(true);
    }
    const index = new SemanticIndex({
      store: db.messageSearch,
      model: MODEL,
      pollMs: 60_000,
      dir: undefined,
    });
    index.start();
    cleanups.push(() => index.stop());
    await index.whenReady();
    // The 60 greeting copies with the highest labels deleted: the first 50 the index hands out are gone.
    const labels = (await index.search(greeting, 120))?.labels ?? [];
    const rows = await db.messageSearch.findChunksByLabel(MODEL, labels, {});
    expect(rows.length).toBe(120);
    const owners = [...rows].sort((a, b) => b.label - a.label);
    for (const row of owners.slice(0, 60)) await db.conversations.deleteConversation(row.conversationId);
    const page = (with_: SemanticIndex | undefined) =>
      searchMessagesBySimilarity(db.messageSearch, db.conversations, queryModel(greeting), {
        text: "q",
        filter: {},
        pageSize: 10,
        cursor: null,
        index: with_,
      });
    const exact = await page(undefined);
    expect(exact.page.results.map((r) => r.score)).toEqual(Array(10).fill(1));
    const ann = await page(index);
    expect(ann.page.results).toEqual(exact.page.results);
  });

  it("rebuilds an index of the first layout whose identical points became aliases (dead points a search walks through)", async () => {
    const { storage, db } = await openStorage();
    const dir = path.join(storage.dataDir, "semantic-index");
    const greeting = unitVector(randomFrom(67), DIMENSIONS);
    const ids = Array.from({ length: 30 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeGreetings(db, ids, greeting);
    // A graph as the first layout wrote it: one point per label, the 30 copies of the greeting included.
    const rows = await db.messageSearch.scanLabelledVectors(MODEL, 0, 1000);
    expect(rows.length).toBe(60);
    const plain = HnswIndex.create(DIMENSIONS);
    for (const row of rows) if (row.vector) plain.add(row.label, row.vector);
    const prefix = `index-${createHash("sha256").update(MODEL).digest("hex").slice(0, 16)}`;
    const file = `${prefix}-old.hnsw`;
    await mkdir(dir, { recursive: true });
    await plain.save(path.join(dir, file));
    const sidecar = {
      format: 1,
      model: MODEL,
      dimensions: DIMENSIONS,
      file,
      bytes: (await stat(path.join(dir, file))).size,
      watermark: Math.max(...rows.map((row) => row.label)),
      holes: [],
    };
    await writeFile(path.join(dir, `${prefix}.json`), JSON.stringify(sidecar));

    const index = new SemanticIndex({ store: db.messageSearch, model: MODEL, dir, pollMs: 60_000 });
    index.start();
    cleanups.push(() => index.stop());
    await index.whenReady();
    expect(index.stats.origin).toBe("loaded");
    // 29 copies became aliases, their points marked deleted: 29 of 60 points dead, the labels all live.
    expect(index.size).toBe(89);
    // 30 more conversations: every label is live (60 + 60 of 89 + 60), but 29 of 90 points are dead.
    const more = Array.from({ length: 30 }, (_, i) => `conv_${String(100 + i).padStart(3, "0")}`);
    await storeGreetings(db, more, greeting);
    await index.catchUp();
    expect(index.size).toBe(149);
    expect(await db.messageSearch.countEmbeddings(MODEL)).toBe(120);
    expect(await index.compact()).toBe(true);
    expect(index.stats.rebuilds).toBe(1);
    // The new graph holds one point per distinct vector, and every copy is still found.
    expect(index.size).toBe(120);
    const labels = (await index.search(greeting, 60))?.labels ?? [];
    const owners = await db.messageSearch.findChunksByLabel(MODEL, labels, {});
    expect(owners.map((row) => row.conversationId).sort()).toEqual([...ids, ...more]);
    expect(await index.compact()).toBe(false);
  });
});
