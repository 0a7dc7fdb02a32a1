/**
 * The semantic-search rows: V vectors seeded through the store API (the chunks the indexer would
 * embed, bench/fake-embedding.ts's vectors, the indexer's own `updatedAt` and text hash), then a
 * separate server with an embeddings provider (bench/embeddings-server.ts) and its indexer off,
 * polled until its semantic index is built; then p99 under load and recall@10 against the exact
 * top 10 computed here by brute force over the same vectors.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ConversationDoc } from "../src/domain/conversation.js";
import { MAX_CHUNKS_PER_CONVERSATION } from "../src/search/embedding-indexer.js";
import { extractMessageChunks } from "../src/search/transcript-chunks.js";
import type { EmbeddingKey, EmbeddingRow } from "../src/store/message-search-store.js";
import { openDatabase } from "../src/store/open-database.js";
import type { Database } from "../src/store/store.js";
import { FAKE_EMBEDDING_DIMENSIONS as DIMS, fakeEmbedding } from "./fake-embedding.js";
import { createRandom } from "./generate-conversations.js";
import { json, measureScenario, type Scenario, type ScenarioResult } from "./scenarios.js";
import { startServerProcess } from "./server-process.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The embedding model named to the server (and recorded with the seeded vectors). */
export const BENCH_EMBEDDING_MODEL = "bench-embedding-64";
/** The header that says which semantic index answered (`ann`, or `exact` while the ANN index builds). */
const INDEX_HEADER = "x-openconvai-semantic-index";
const RECALL_QUERIES = 50;
const TOP = 10;
/** Conversations asked for per seeding round. */
const SEED_BATCH = 100;
/** Embedded chunks read per scan step. */
const SCAN_BATCH = 5000;

/** The vectors the database holds for the bench model, in scan order. */
interface VectorSet {
  count: number;
  vectors: Float32Array;
  /** `conversation_id|transcript_index` of each vector. */
  keys: Set<string>;
  texts: string[];
}

/** What the semantic scenario measured. */
export interface SemanticResult {
  index: "ann" | "exact";
  vectors: number;
  seededNow: number;
  seedSeconds: number;
  /** From the server listening to its first `ann` answer (0 when measuring the exact path). */
  buildSeconds: number;
  scenario: ScenarioResult;
  recall: number;
  recallQueries: number;
  peakRssMb: number;
  /** Indexer batches the fake provider refused (should be 0: the indexer is off). */
  indexerBatches: number;
}

/** Reads every vector made with the bench model through the store's scan. */
async function loadVectors(db: Database): Promise<VectorSet> {
  const parts: Float32Array[] = [];
  const keys = new Set<string>();
  const texts: string[] = [];
  let after: EmbeddingKey | null = null;
  for (;;) {
    const batch = await db.messageSearch.scanEmbeddings(BENCH_EMBEDDING_MODEL, {}, after, SCAN_BATCH);
    const block = new Float32Array(batch.length * DIMS);
    batch.forEach((row, i) => {
      block.set(row.vector, i * DIMS);
      keys.add(`${row.conversationId}|${row.transcriptIndex}`);
      texts.push(row.chunkText);
    });
    parts.push(block);
    const last = batch[batch.length - 1];
    if (batch.length < SCAN_BATCH || !last) break;
    after = { conversationId: last.conversationId, transcriptIndex: last.transcriptIndex, chunk: last.chunk };
  }
  const vectors = new Float32Array(texts.length * DIMS);
  let at = 0;
  for (const part of parts) {
    vectors.set(part, at);
    at += part.length;
  }
  return { count: texts.length, vectors, keys, texts };
}

/**
 * Seeds vectors until the database holds at least `target`: conversations in id order (the
 * store's pending-embeddings order), each conversation's chunks as the indexer extracts them.
 */
async function seedVectors(db: Database, have: number, target: number): Promise<number> {
  let total = have;
  while (total < target) {
    const pending = await db.messageSearch.findPendingEmbeddings(BENCH_EMBEDDING_MODEL, SEED_BATCH);
    if (pending.length === 0) break;
    for (const item of pending) {
      if (total >= target) break;
      const chunks = extractMessageChunks(JSON.parse(item.json) as ConversationDoc).slice(
        0,
        MAX_CHUNKS_PER_CONVERSATION,
      );
      const textHash = createHash("sha256")
        .update(JSON.stringify(chunks.map((c) => [c.transcriptIndex, c.chunk, c.text])))
        .digest("hex");
      const rows: EmbeddingRow[] = chunks.map((c) => ({
        transcriptIndex: c.transcriptIndex,
        chunk: c.chunk,
        chunkText: c.text,
        vector: fakeEmbedding(c.text),
      }));
      const written = await db.messageSearch.replaceEmbeddings(
        item.conversationId,
        { model: BENCH_EMBEDDING_MODEL, updatedAt: item.updatedAt, textHash },
        rows,
      );
      if (written) total += rows.length;
    }
  }
  return total - have;
}

/** A semantic result, as much of it as recall needs. */
interface SemanticHit {
  conversation_id: string;
  transcript_index: number;
  chunk_text: string;
}

/** The results of a smart-search answer (`{page: {results}}`, or `{results}`). */
function resultsOf(body: Record<string, unknown> | undefined): SemanticHit[] | undefined {
  const page = (body?.page ?? body) as { results?: unknown } | undefined;
  return Array.isArray(page?.results) ? (page.results as SemanticHit[]) : undefined;
}

/** The similarity of two unit vectors (`b` at an offset of a packed array). */
function dot(a: Float32Array, b: Float32Array, offset: number): number {
  let sum = 0;
  for (let d = 0; d < DIMS; d++) sum += (a[d] as number) * (b[offset + d] as number);
  return sum;
}

/** The exact 10th-best similarity to the query (the bar a result must reach to count). */
function tenthBest(query: Float32Array, set: VectorSet): number {
  const top: number[] = [];
  for (let i = 0; i < set.count; i++) {
    const s = dot(query, set.vectors, i * DIMS);
    if (top.length === TOP && s <= (top[TOP - 1] as number)) continue;
    let at = top.length;
    while (at > 0 && s > (top[at - 1] as number)) at--;
    top.splice(at, 0, s);
    if (top.length > TOP) top.pop();
  }
  return top[top.length - 1] ?? 0;
}

/** Queries made of words of the seeded chunks: four words of one chunk and two of another. */
function buildQueries(set: VectorSet, seed: number): string[] {
  const random = createRandom(seed + 7);
  const wordsOf = () =>
    (set.texts[Math.floor(random() * set.count)] ?? "")
      .match(/[\p{L}\p{N}]+/gu)
      ?.filter((w) => w.length > 2) ?? [];
  const queries: string[] = [];
  while (queries.length < RECALL_QUERIES) {
    const query = [...wordsOf().slice(0, 4), ...wordsOf().slice(-2)].join(" ");
    if (query.trim().length > 0) queries.push(query);
  }
  return queries;
}

/** Starts the fake embeddings server in its own process; resolves with its port and a stop function. */
async function startEmbeddingsServer(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "embeddings-server.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once("exit", (code) => reject(new Error(`embeddings server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
}

/** Seeds the vectors (unless the database holds them), then measures semantic search on its own server. */
export async function runSemanticScenario(options: {
  root: string;
  dataDir: string;
  databaseUrl: string | undefined;
  seed: number;
  seconds: number;
  vectors: number;
  index: "ann" | "exact";
  timeoutMinutes: number;
}): Promise<SemanticResult> {
  const { root, dataDir, databaseUrl, seed, seconds, index } = options;
  const db = await openDatabase({ dataDir, databaseUrl });
  let set: VectorSet;
  let seededNow = 0;
  const seedStarted = performance.now();
  try {
    set = await loadVectors(db);
    if (set.count < options.vectors) {
      process.stderr.write(`seeding ${options.vectors - set.count} vectors (have ${set.count})…\n`);
      seededNow = await seedVectors(db, set.count, options.vectors);
      set = await loadVectors(db);
    } else {
      process.stderr.write(`the database already holds ${set.count} vectors; not seeding\n`);
    }
  } finally {
    await db.close();
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  if (set.count === 0) throw new Error("semantic search: no vectors could be seeded");
  process.stderr.write(`${set.count} vectors (${seededNow} seeded now, ${seedSeconds.toFixed(1)} s)\n`);

  const queries = buildQueries(set, seed);
  const searchPath = (q: string) =>
    `/v1/convai/conversations/messages/smart-search?page_size=${TOP}&text_query=${encodeURIComponent(q)}`;
  const embeddings = await startEmbeddingsServer();
  try {
    const server = await startServerProcess({
      root,
      dataDir,
      databaseUrl,
      env: {
        OPENCONVAI_EMBEDDINGS_URL: `${embeddings.url}/v1`,
        OPENCONVAI_EMBEDDINGS_MODEL: BENCH_EMBEDDING_MODEL,
        OPENCONVAI_EMBEDDINGS_INDEXER: "off",
        OPENCONVAI_SEMANTIC_INDEX: index,
        // Should the indexer run anyway, its refused batches are retried only hourly.
        OPENCONVAI_EMBEDDINGS_INDEX_INTERVAL_MS: "3600000",
      },
    });
    try {
      const started = performance.now();
      const deadline = started + options.timeoutMinutes * 60_000;
      for (;;) {
        const response = await fetch(`${server.url}${searchPath(queries[0] as string)}`, {
          headers: { "xi-api-key": server.apiKey },
        });
        const body = await response.text();
        if (response.status !== 200)
          throw new Error(`semantic search answered ${response.status} while waiting for the index: ${body}`);
        const answered = response.headers.get(INDEX_HEADER) ?? "exact";
        if (answered === index) break;
        if (performance.now() > deadline)
          throw new Error(
            `semantic search still answers with the "${answered}" index after ${options.timeoutMinutes} min ` +
              `(waiting for "${index}"; --semantic-timeout sets the wait, --semantic-index exact measures the exact path)`,
          );
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const buildSeconds = index === "ann" ? (performance.now() - started) / 1000 : 0;
      if (index === "ann") process.stderr.write(`semantic index built in ${buildSeconds.toFixed(1)} s\n`);

      const scenario: Scenario = {
        name: `semantic search (${index}, ${set.count.toLocaleString("en")} vectors)`,
        request: (i) => ({ path: searchPath(queries[i % queries.length] as string) }),
        check: (status, body) => {
          if (status !== 200) return `status ${status}`;
          const results = resultsOf(json(body));
          if (results === undefined) return "not a search page";
          return results.length === 0 ? "no results" : undefined;
        },
      };
      const measured = await measureScenario(server.url, server.apiKey, scenario, seconds);

      // recall@10: a result counts when it is a seeded chunk at least as similar as the exact 10th best.
      let recallSum = 0;
      for (const q of queries) {
        const response = await fetch(`${server.url}${searchPath(q)}`, {
          headers: { "xi-api-key": server.apiKey },
        });
        const results = resultsOf((await response.json()) as Record<string, unknown>) ?? [];
        const query = fakeEmbedding(q);
        const bar = tenthBest(query, set) - 1e-5;
        const seen = new Set<string>();
        let hits = 0;
        for (const r of results.slice(0, TOP)) {
          const key = `${r.conversation_id}|${r.transcript_index}|${r.chunk_text}`;
          if (seen.has(key) || !set.keys.has(`${r.conversation_id}|${r.transcript_index}`)) continue;
          seen.add(key);
          if (dot(query, fakeEmbedding(r.chunk_text), 0) >= bar) hits++;
        }
        recallSum += hits / Math.min(TOP, set.count);
      }
      const stats = (await (await fetch(`${embeddings.url}/stats`)).json()) as { batches: number };
      const result: SemanticResult = {
        index,
        vectors: set.count,
        seededNow,
        seedSeconds,
        buildSeconds,
        scenario: measured,
        recall: recallSum / queries.length,
        recallQueries: queries.length,
        peakRssMb: server.peakRssMb(),
        indexerBatches: stats.batches,
      };
      process.stderr.write(
        `recall@10 ${result.recall.toFixed(3)} over ${queries.length} queries; semantic server peak RSS ${Math.round(result.peakRssMb)} MB\n`,
      );
      return result;
    } finally {
      await server.stop();
    }
  } finally {
    embeddings.stop();
  }
}
