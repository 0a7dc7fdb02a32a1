/**
 * The semantic search's ANN index on real SQLite and PostgreSQL: its recall against the exact scan,
 * that a deleted or re-embedded conversation is never returned by it (the index built before the
 * change), that a second node on the same database picks up what another wrote, that a persisted
 * index is loaded rather than rebuilt (and a corrupt one rebuilt), and that filters stay exact.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import type { EmbeddingsModel } from "../src/providers/embeddings/embeddings-model.js";
import { cosineSimilarity } from "../src/search/cosine-similarity.js";
import type { SearchCursor } from "../src/search/search-cursor.js";
import { SemanticIndex } from "../src/search/semantic-index.js";
import {
  MAX_ANN_NEIGHBOURS,
  type SemanticSearchAnswer,
  searchMessagesBySimilarity,
} from "../src/search/semantic-search.js";
import type { EmbeddingFilter } from "../src/store/message-search-store.js";
import type { Database } from "../src/store/store.js";
import { BASE_START_TIME, buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

const MODEL = "toy-model";
const DIMENSIONS = 32;

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

function unitVector(random: () => number): Float32Array {
  const v = Float32Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** An embeddings model answering one fixed vector for any query (the stored vectors are the test's own). */
function queryModel(vector: Float32Array): EmbeddingsModel {
  return { model: MODEL, embed: async () => [vector] } as unknown as EmbeddingsModel;
}

/** Stores conversations and gives each `chunks` embedded chunks with the vectors `vectorOf` makes. */
async function storeEmbedded(
  db: Database,
  ids: readonly string[],
  chunks: number,
  vectorOf: (id: string, chunk: number) => Float32Array,
  agentOf: (id: string) => string = () => "agent_a",
): Promise<void> {
  for (const [i, id] of ids.entries()) {
    const doc = buildConversation({ id, agentId: agentOf(id), startTime: BASE_START_TIME + i });
    await db.conversations.putConversation(buildConversationRecord(doc));
  }
  await embedAgain(db, ids, chunks, vectorOf);
}

/** (Re)places the embeddings of stored conversations, as the indexer does. */
async function embedAgain(
  db: Database,
  ids: readonly string[],
  chunks: number,
  vectorOf: (id: string, chunk: number) => Float32Array,
): Promise<void> {
  const wanted = new Set(ids);
  const pending = (await db.messageSearch.findPendingEmbeddings(MODEL, 100_000)).filter((p) =>
    wanted.has(p.conversationId),
  );
  expect(pending.length).toBe(ids.length);
  for (const item of pending) {
    const rows = Array.from({ length: chunks }, (_, chunk) => ({
      transcriptIndex: 0,
      chunk,
      chunkText: `${item.conversationId} chunk ${chunk}`,
      vector: vectorOf(item.conversationId, chunk),
    }));
    const state = { model: MODEL, updatedAt: item.updatedAt, textHash: `h-${Math.random()}` };
    expect(await db.messageSearch.replaceEmbeddings(item.conversationId, state, rows)).toBe(true);
  }
}

async function search(
  db: Database,
  query: Float32Array,
  index: SemanticIndex | undefined,
  pageSize = 10,
  filter: EmbeddingFilter = {},
  cursor: SearchCursor | null = null,
): Promise<SemanticSearchAnswer> {
  return searchMessagesBySimilarity(db.messageSearch, db.conversations, queryModel(query), {
    text: "q",
    filter,
    pageSize,
    cursor,
    index,
  });
}

function resultIds(answer: SemanticSearchAnswer): string[] {
  return answer.page.results.map((r) => `${r.conversation_id}#${r.transcript_index}`);
}

describe.each(BACKENDS)("the semantic ANN index on %s", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openStorage(): Promise<{ storage: TestStorage; db: Database }> {
    const storage = createTestStorage(backend);
    const db = await storage.open();
    cleanups.push(async () => {
      await db.close();
      await storage.cleanup();
    });
    return { storage, db };
  }

  function startIndex(db: Database, dir: string | undefined, pollMs = 60_000): SemanticIndex {
    const index = new SemanticIndex({ store: db.messageSearch, model: MODEL, dir, pollMs });
    index.start();
    cleanups.push(() => index.stop());
    return index;
  }

  it("finds at least 95% of the exact top 10 over 3,000 random vectors, with the exact scores", async () => {
    const { storage, db } = await openStorage();
    const random = randomFrom(7);
    const vectors = new Map<string, Float32Array>();
    const ids = Array.from({ length: 60 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeEmbedded(db, ids, 50, (id, chunk) => {
      const v = unitVector(random);
      vectors.set(`${id}#${chunk}`, v);
      return v;
    });
    const index = startIndex(db, path.join(storage.dataDir, "semantic-index"));
    await index.whenReady();
    expect(index.size).toBe(3000);
    let found = 0;
    let asked = 0;
    for (let q = 0; q < 40; q++) {
      const query = unitVector(random);
      const exact = await search(db, query, undefined);
      const ann = await search(db, query, index);
      expect(exact.index).toBe("exact");
      expect(ann.index).toBe("ann");
      const truth = new Set(resultIds(exact));
      asked += truth.size;
      found += resultIds(ann).filter((id) => truth.has(id)).length;
      // The same score the exact scan gives the same chunk.
      const exactScores = new Map(
        exact.page.results.map((r) => [`${r.conversation_id}#${r.chunk_text}`, r.score]),
      );
      for (const r of ann.page.results) {
        const score = exactScores.get(`${r.conversation_id}#${r.chunk_text}`);
        if (score !== undefined) expect(r.score).toBe(score);
      }
    }
    expect(found / asked).toBeGreaterThanOrEqual(0.95);
  });

  it("never returns a deleted or re-embedded conversation's old rows, the index built before the change", async () => {
    const { db } = await openStorage();
    const random = randomFrom(11);
    const old = new Map<string, Float32Array>();
    const ids = Array.from({ length: 20 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeEmbedded(db, ids, 10, (id, chunk) => {
      const v = unitVector(random);
      old.set(`${id}#${chunk}`, v);
      return v;
    });
    const index = startIndex(db, undefined);
    await index.whenReady();
    const deletedVector = old.get("conv_003#0") as Float32Array;
    const replacedVector = old.get("conv_007#0") as Float32Array;
    // Before the change both are their own nearest neighbour.
    expect((await search(db, deletedVector, index)).page.results[0]?.conversation_id).toBe("conv_003");
    expect((await search(db, replacedVector, index)).page.results[0]?.conversation_id).toBe("conv_007");

    await db.conversations.deleteConversation("conv_003");
    // A new version of the document, whose messages are embedded again (new rows, new labels).
    const changed = buildConversation({
      id: "conv_007",
      agentId: "agent_a",
      messages: ["Changed.", "Indeed."],
    });
    await db.conversations.putConversation(buildConversationRecord(changed));
    const fresh = new Map<number, Float32Array>();
    await embedAgain(db, ["conv_007"], 10, (_, chunk) => {
      const v = unitVector(random);
      fresh.set(chunk, v);
      return v;
    });
    const sizeBefore = index.size;
    await index.catchUp();

    const afterDelete = await search(db, deletedVector, index, 50);
    expect(afterDelete.index).toBe("ann");
    expect(afterDelete.page.results.some((r) => r.conversation_id === "conv_003")).toBe(false);
    const afterReplace = await search(db, replacedVector, index, 50);
    expect(afterReplace.index).toBe("ann");
    for (const r of afterReplace.page.results.filter((r) => r.conversation_id === "conv_007")) {
      // Only the new rows, scored from their new vectors.
      const chunk = Number(r.chunk_text.split(" ").pop());
      const expected =
        Math.round(cosineSimilarity(replacedVector, fresh.get(chunk) as Float32Array) * 1e6) / 1e6;
      expect(r.score).toBe(expected);
    }
    // The re-embedded rows were caught up under new labels, and the labels found gone are forgotten.
    expect(index.size).toBe(sizeBefore + 10);
    await index.catchUp();
    expect(index.stats.forgotten).toBeGreaterThan(0);
  });

  it("lets a second node on the same database pick up what another wrote", async () => {
    const { storage, db } = await openStorage();
    const other = await storage.open();
    cleanups.push(() => other.close());
    const random = randomFrom(13);
    await storeEmbedded(db, ["conv_a", "conv_b"], 5, () => unitVector(random));
    const first = startIndex(db, undefined);
    const second = startIndex(other, undefined, 50);
    await Promise.all([first.whenReady(), second.whenReady()]);
    expect(second.size).toBe(10);
    const newVector = unitVector(random);
    await storeEmbedded(db, ["conv_new"], 1, () => newVector);
    // The second node's index polls for labels above its watermark.
    await vi.waitFor(() => expect(second.size).toBe(11), { timeout: 5000 });
    const answer = await search(other, newVector, second);
    expect(answer.index).toBe("ann");
    expect(answer.page.results[0]?.conversation_id).toBe("conv_new");
    expect(answer.page.results[0]?.score).toBe(1);
    expect(second.size).toBe(11);
  });

  it("loads a persisted index after a restart instead of rebuilding it, and rebuilds a corrupt one", async () => {
    const { storage, db } = await openStorage();
    const dir = path.join(storage.dataDir, "semantic-index");
    const random = randomFrom(17);
    await storeEmbedded(db, ["conv_a", "conv_b", "conv_c"], 20, () => unitVector(random));
    const first = new SemanticIndex({ store: db.messageSearch, model: MODEL, dir, pollMs: 60_000 });
    first.start();
    await first.whenReady();
    expect(first.stats.origin).toBe("built");
    await first.stop();

    // Written while the first was down: the restarted index catches up from its watermark.
    const lateVector = unitVector(random);
    await storeEmbedded(db, ["conv_late"], 1, () => lateVector);
    const second = startIndex(db, dir);
    await second.whenReady();
    expect(second.stats.origin).toBe("loaded");
    expect(second.stats.added).toBe(1);
    expect(second.size).toBe(61);
    expect((await search(db, lateVector, second)).page.results[0]?.conversation_id).toBe("conv_late");
    await second.stop();

    const files = (await readdir(dir)).filter((name) => name.endsWith(".hnsw"));
    expect(files.length).toBe(1);
    await writeFile(path.join(dir, files[0] as string), "not an index");
    const third = startIndex(db, dir);
    await third.whenReady();
    expect(third.stats.origin).toBe("built");
    expect(third.size).toBe(61);
  });

  it("pages with a cursor as the exact scan does (page 2), and goes exact past the neighbour cap", async () => {
    const { db } = await openStorage();
    const random = randomFrom(29);
    const ids = Array.from({ length: 20 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeEmbedded(db, ids, 10, () => unitVector(random));
    const index = startIndex(db, undefined);
    await index.whenReady();
    const query = unitVector(random);
    const exact1 = await search(db, query, undefined, 10);
    const ann1 = await search(db, query, index, 10);
    expect(ann1.index).toBe("ann");
    expect(ann1.page.results).toEqual(exact1.page.results);
    const cursorOf = (answer: SemanticSearchAnswer): SearchCursor => {
      const last = answer.page.results[answer.page.results.length - 1];
      if (!last) throw new Error("empty page");
      return {
        mode: "semantic",
        page: 1,
        last: {
          score: last.score,
          startTime: last.conversation_start_time_unix_secs,
          conversationId: last.conversation_id,
          transcriptIndex: last.transcript_index,
          chunk: Number(last.chunk_text.split(" ").pop()),
        },
      } as SearchCursor;
    };
    const exact2 = await search(db, query, undefined, 10, {}, cursorOf(exact1));
    const ann2 = await search(db, query, index, 10, {}, cursorOf(ann1));
    expect(ann2.index).toBe("ann");
    expect(ann2.page.results.length).toBe(10);
    expect(ann2.page.results).toEqual(exact2.page.results);
    // A page deep enough to need more than the cap of neighbours is answered by the exact scan.
    const deep = { ...cursorOf(exact1), page: Math.ceil(MAX_ANN_NEIGHBOURS / 30) } as SearchCursor;
    const deepAnn = await search(db, query, index, 10, {}, deep);
    expect(deepAnn.index).toBe("exact");
    expect(deepAnn.page.results).toEqual((await search(db, query, undefined, 10, {}, deep)).page.results);
  });

  it("rebuilds in the background when more than a quarter of its points are dead, and keeps answering", async () => {
    const { storage, db } = await openStorage();
    const random = randomFrom(47);
    const ids = Array.from({ length: 10 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeEmbedded(db, ids, 10, () => unitVector(random));
    const index = startIndex(db, path.join(storage.dataDir, "semantic-index"));
    await index.whenReady();
    // Few dead points: nothing to do.
    expect(await index.compact()).toBe(false);
    for (const id of ids.slice(0, 5)) {
      const changed = buildConversation({ id, agentId: "agent_a", messages: ["Changed.", "Again."] });
      await db.conversations.putConversation(buildConversationRecord(changed));
    }
    await embedAgain(db, ids.slice(0, 5), 10, () => unitVector(random));
    await index.catchUp();
    expect(index.size).toBe(150);
    const saves = index.stats.saves;
    expect(await index.compact()).toBe(true);
    expect(index.stats.rebuilds).toBe(1);
    expect(index.size).toBe(100);
    expect(index.stats.saves).toBe(saves + 1);
    const query = unitVector(random);
    const ann = await search(db, query, index);
    expect(ann.index).toBe("ann");
    expect(ann.page.results).toEqual((await search(db, query, undefined)).page.results);
    // Rows written after the rebuild are caught up in the new graph.
    await storeEmbedded(db, ["conv_new"], 1, () => query);
    await index.catchUp();
    expect(index.size).toBe(101);
    expect((await search(db, query, index)).page.results[0]?.conversation_id).toBe("conv_new");
  });

  it("answers a query of other dimensions exactly rather than with an empty page", async () => {
    const { db } = await openStorage();
    const random = randomFrom(31);
    await storeEmbedded(db, ["conv_a", "conv_b"], 5, () => unitVector(random));
    const index = startIndex(db, undefined);
    await index.whenReady();
    const other = Float32Array.from({ length: DIMENSIONS * 2 }, (_, i) => (i === 0 ? 1 : 0));
    const answer = await search(db, other, index);
    expect(answer.index).toBe("exact");
    expect(answer.page).toEqual((await search(db, other, undefined)).page);
  });

  it("loads a sidecar of the first layout (no sha256, no aliases) and rebuilds a file whose sha256 differs", async () => {
    const { storage, db } = await openStorage();
    const dir = path.join(storage.dataDir, "semantic-index");
    const random = randomFrom(37);
    await storeEmbedded(db, ["conv_a", "conv_b"], 10, () => unitVector(random));
    const first = new SemanticIndex({ store: db.messageSearch, model: MODEL, dir, pollMs: 60_000 });
    first.start();
    await first.whenReady();
    await first.stop();
    const sidecarName = (await readdir(dir)).find((name) => name.endsWith(".json")) as string;
    const sidecarPath = path.join(dir, sidecarName);
    const sidecar = JSON.parse(await readFile(sidecarPath, "utf8")) as Record<string, unknown>;
    expect(sidecar.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(String(sidecar.file)).toMatch(
      /-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.hnsw$/,
    );
    expect(sidecar.format).toBe(2);
    expect(sidecar.labels).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const { sha256: _sha, holeRanges: _ranges, labels: _labels, ...firstLayout } = sidecar;
    await writeFile(sidecarPath, JSON.stringify({ ...firstLayout, format: 1, holes: [] }));
    const second = startIndex(db, dir);
    await second.whenReady();
    expect(second.stats.origin).toBe("loaded");
    expect(second.size).toBe(20);
    await second.stop();

    // Same size, one byte changed: only the sha256 tells.
    await writeFile(sidecarPath, JSON.stringify(sidecar));
    const file = path.join(dir, String(sidecar.file));
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    await writeFile(file, bytes);
    const third = startIndex(db, dir);
    await third.whenReady();
    expect(third.stats.origin).toBe("built");
    expect(third.size).toBe(20);
  });

  it.skipIf(backend !== "sqlite")(
    "turns itself off and answers exactly when a label exceeds 32 bits",
    async () => {
      const { storage, db } = await openStorage();
      const random = randomFrom(41);
      await storeEmbedded(db, ["conv_a"], 3, () => unitVector(random));
      const index = startIndex(db, undefined);
      await index.whenReady();
      const Sqlite = (await import("better-sqlite3")).default;
      const raw = new Sqlite(path.join(storage.dataDir, "openconvai.sqlite"));
      const vector = unitVector(random);
      raw
        .prepare(
          "INSERT INTO message_embeddings (label, conversation_id, transcript_index, chunk, chunk_text, vector) VALUES (?, 'conv_a', 0, 9, 'big', ?)",
        )
        .run(2 ** 32, Buffer.from(vector.buffer));
      raw.close();
      await index.catchUp();
      expect(index.status).toBe("disabled");
      expect(index.ready).toBe(false);
      const answer = await search(db, vector, index);
      expect(answer.index).toBe("exact");
      expect(answer.page.results[0]?.chunk_text).toBe("big");
    },
  );

  it.skipIf(backend !== "postgres")(
    "finds a row whose label committed after a higher one (a hole re-checked at the next poll)",
    async () => {
      const { storage, db } = await openStorage();
      const random = randomFrom(23);
      await storeEmbedded(db, ["conv_x", "conv_y"], 1, () => unitVector(random));
      const index = startIndex(db, undefined);
      await index.whenReady();
      const late = unitVector(random);
      const insert = `INSERT INTO message_embeddings (conversation_id, transcript_index, chunk, chunk_text, vector)
        VALUES ($1, 0, 1, 'late', $2::real[])`;
      const slow = new pg.Client({ connectionString: storage.databaseUrl });
      await slow.connect();
      try {
        // The slow transaction takes its label first and commits last.
        await slow.query("BEGIN");
        await slow.query(insert, ["conv_x", Array.from(late)]);
        const fast = new pg.Client({ connectionString: storage.databaseUrl });
        await fast.connect();
        await fast.query(insert, ["conv_y", Array.from(unitVector(random))]);
        await fast.end();
        await index.catchUp();
        expect(index.size).toBe(3);
        await slow.query("COMMIT");
      } finally {
        await slow.end();
      }
      await index.catchUp();
      expect(index.size).toBe(4);
      const answer = await search(db, late, index);
      expect(answer.index).toBe("ann");
      expect(answer.page.results[0]?.chunk_text).toBe("late");
    },
  );

  it.skipIf(backend !== "postgres")(
    "finds a row whose transaction commits long after the gap was seen (no time limit), and retires rolled-back gaps",
    async () => {
      const { storage, db } = await openStorage();
      const random = randomFrom(43);
      await storeEmbedded(db, ["conv_x", "conv_y"], 1, () => unitVector(random));
      const index = startIndex(db, undefined);
      await index.whenReady();
      const late = unitVector(random);
      const insert = `INSERT INTO message_embeddings (conversation_id, transcript_index, chunk, chunk_text, vector)
        VALUES ($1, 0, $2, $3, $4::real[])`;
      const slow = new pg.Client({ connectionString: storage.databaseUrl });
      const undone = new pg.Client({ connectionString: storage.databaseUrl });
      await slow.connect();
      await undone.connect();
      const now = Date.now();
      try {
        await slow.query("BEGIN");
        await slow.query(insert, ["conv_x", 1, "late", Array.from(late)]);
        await undone.query("BEGIN");
        await undone.query(insert, ["conv_x", 2, "undone", Array.from(unitVector(random))]);
        const fast = new pg.Client({ connectionString: storage.databaseUrl });
        await fast.connect();
        await fast.query(insert, ["conv_y", 1, "fast", Array.from(unitVector(random))]);
        await fast.end();
        await index.catchUp();
        expect(index.size).toBe(3);
        expect(index.holeCount).toBe(1);
        await undone.query("ROLLBACK");
        // An hour later (the clock moved on) and many polls on, the gap is still looked for.
        vi.spyOn(Date, "now").mockImplementation(() => now + 60 * 60_000);
        for (let poll = 0; poll < 5; poll++) await index.catchUp();
        expect(index.holeCount).toBeGreaterThan(0);
        await slow.query("COMMIT");
      } finally {
        vi.restoreAllMocks();
        await slow.end();
        await undone.end();
      }
      await index.catchUp();
      expect(index.size).toBe(4);
      const answer = await search(db, late, index);
      expect(answer.index).toBe("ann");
      expect(answer.page.results[0]?.chunk_text).toBe("late");
      // Every transaction that could fill the gap has ended: a last lookup retires it.
      await vi.waitFor(
        async () => {
          await index.catchUp();
          expect(index.holeCount).toBe(0);
        },
        { timeout: 5000, interval: 100 },
      );
    },
  );

  it("answers a filtered search exactly, from the filtered rows only", async () => {
    const { db } = await openStorage();
    const random = randomFrom(19);
    const ids = Array.from({ length: 30 }, (_, i) => `conv_${String(i).padStart(3, "0")}`);
    await storeEmbedded(
      db,
      ids,
      10,
      () => unitVector(random),
      (id) => (Number(id.slice(5)) % 3 === 0 ? "agent_x" : "agent_y"),
    );
    const index = startIndex(db, undefined);
    await index.whenReady();
    const query = unitVector(random);
    const filtered = await search(db, query, index, 20, { agentId: "agent_x" });
    const exact = await search(db, query, undefined, 20, { agentId: "agent_x" });
    expect(filtered.index).toBe("exact");
    expect(filtered.page).toEqual(exact.page);
    expect(filtered.page.results.length).toBe(20);
    expect(filtered.page.results.every((r) => r.agent_id === "agent_x")).toBe(true);
  });
});
