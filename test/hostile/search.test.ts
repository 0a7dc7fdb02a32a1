/**
 * Hostile message searches: queries within the documented limits (500 characters, 16 words) that
 * used to run the trigram search once per conversation on SQLite and hold the server for tens of
 * seconds. What is asserted is the work done (the plans, the conversations examined) and the
 * results, never the time taken.
 */
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import type { ListQuery } from "../../src/domain/list-query.js";
import { MAX_RANKED_CHARS, searchMessagesByText } from "../../src/search/message-search.js";
import { decodeSearchCursor, encodeSearchCursor } from "../../src/search/search-cursor.js";
import { prepareQuery, scoreChunk } from "../../src/search/text-ranking.js";
import { PostgresMessageSearchStore } from "../../src/store/postgres/postgres-message-search-store.js";
import { SqliteMessageSearchStore } from "../../src/store/sqlite/sqlite-message-search-store.js";
import type { Database } from "../../src/store/store.js";
import { BASE_START_TIME, buildConversation } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { putConversations } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const COUNT = 2000;
const QUERY: ListQuery = {
  pageSize: 20,
  cursor: null,
  direction: "desc",
  anyOf: [],
  evaluations: [],
  dataCollection: [],
  dynamicVariables: [],
};

/** One agent's conversations searched for "understood", by score: the PostgreSQL path tests' search. */
const ODD_UNDERSTOOD_BY_SCORE = {
  query: { ...QUERY, search: "understood", agentId: "agent_odd" },
  words: ["understood"],
  sortBy: "search_score" as const,
};

/** The longest query a client may send: one word of 500 characters. */
const LONG_WORD = "ab".repeat(250);
/** The most words a query is split into, 30 letters each (495 characters). */
const MANY_WORDS = Array.from({ length: 16 }, (_, i) =>
  Array.from({ length: 30 }, (_, j) => String.fromCharCode(97 + ((i * 7 + j * (i + 3)) % 26))).join(""),
);
/** Pieces every conversation's text holds. */
const COMMON = ["the", "cal", "ler", "ask", "abo", "ord", "res", "olv", "ref", "und", "age", "ent"];
/** Sixteen 30-letter words made of those pieces: their trigrams are everywhere, the words nowhere. */
const HOSTILE_WORDS = Array.from({ length: 16 }, (_, i) =>
  Array.from({ length: 10 }, (_, j) => COMMON[(i + j * 5) % COMMON.length]).join(""),
);
/** A word in every 100th conversation whose trigrams are all in every one: walked by time. */
const SPARSE_WORD = "refunder";
const holdsSparse = (i: number) => i % 100 === 37;
/** A two-letter word (too short for the trigram index) in every 250th conversation. */
const SHORT_WORD = "qz";

const idAt = (i: number) => `hostile_${String(i).padStart(5, "0")}`;
/** Two conversations per second, so walks meet ties on the second. */
const startAt = (i: number) => BASE_START_TIME + Math.floor(i / 2) * 10;
/** A user with five conversations, all older than the newest 300 (a selective filter). */
const FEW_USER = "user_few";
const ofFewUser = (i: number) => i % 400 === 11;

function messagesOf(i: number): string[] {
  const messages = [
    "The caller asked about the order.",
    "The agent resolved the refund, and that is understood.",
  ];
  if (i === 5 || i === 1500) messages.push(`Code ${LONG_WORD} read out.`);
  if (i === 7) messages.push(MANY_WORDS.join(" "));
  if (i === 8) messages.push(MANY_WORDS.slice(1).join(" "));
  if (i % 250 === 3) messages.push(`Reference ${SHORT_WORD.toUpperCase()} noted.`);
  if (holdsSparse(i)) messages.push(`Noted ${SPARSE_WORD} code.`);
  // The best match of "understood" anywhere, in the oldest conversation of the few user FEW_USER has.
  if (i === 11) messages.push("Understood.");
  return messages;
}

function docAt(i: number) {
  return buildConversation({
    id: idAt(i),
    startTime: startAt(i),
    agentId: i % 2 === 0 ? "agent_even" : "agent_odd",
    ...(ofFewUser(i) ? { userId: FEW_USER } : {}),
    summary: "Call.",
    messages: messagesOf(i),
  });
}

/** Newest first, as candidates come: (start time, id) descending. */
function expectedIds(matches: (i: number) => boolean, agent?: string): string[] {
  const ids: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    if (agent && docAt(i).agent_id !== agent) continue;
    if (matches(i)) ids.push(i);
  }
  return ids.sort((a, b) => startAt(b) - startAt(a) || (idAt(b) < idAt(a) ? -1 : 1)).map((i) => idAt(i));
}

const holds = (i: number, words: string[]) => {
  const text = messagesOf(i).join("\n").toLowerCase();
  return words.every((w) => text.includes(w.toLowerCase()));
};

describe.each(BACKENDS)("hostile message search on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeAll(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    const records = Array.from({ length: COUNT }, (_, i) => buildConversationRecord(docAt(i)));
    for (let i = 0; i < records.length; i += 500) {
      await db.conversations.upsertConversations(records.slice(i, i + 500));
    }
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it("examines a bounded number of conversations when the words are everywhere but together nowhere", async () => {
    const walk = await db.messageSearch.walkCandidates(
      { ...QUERY, search: HOSTILE_WORDS.join(" ") },
      null,
      100,
      300,
    );
    expect(walk.candidates).toEqual([]);
    expect(walk.examined).toBeLessThanOrEqual(300);
    // Both walk the conversations newest first (the trigram index would not narrow) and say where they stopped.
    expect(walk.resume).not.toBeNull();
  });

  it("finds exactly the conversations holding a 500-character word, 16 long words, or a short word", async () => {
    const cases: [string, string[], string | undefined][] = [
      [LONG_WORD, [LONG_WORD], undefined],
      [MANY_WORDS.join(" "), MANY_WORDS, undefined],
      [HOSTILE_WORDS.join(" "), HOSTILE_WORDS, undefined],
      [SHORT_WORD, [SHORT_WORD], undefined],
      [`${SHORT_WORD} understood`, [SHORT_WORD, "understood"], "agent_odd"],
    ];
    for (const [search, words, agentId] of cases) {
      const query = { ...QUERY, search, ...(agentId ? { agentId } : {}) };
      const found = await db.messageSearch.findCandidates(query, null, COUNT);
      expect(
        found.map((c) => c.conversationId),
        search.slice(0, 40),
      ).toEqual(expectedIds((i) => holds(i, words), agentId));
    }
    expect(expectedIds((i) => holds(i, [LONG_WORD]))).toEqual([idAt(1500), idAt(5)]);
    expect(expectedIds((i) => holds(i, MANY_WORDS))).toEqual([idAt(7)]);
  });

  it("pages through every match when each page may examine only a few conversations", async () => {
    const expected = expectedIds((i) => holds(i, [SHORT_WORD]));
    expect(expected.length).toBeGreaterThanOrEqual(8);
    const seen: string[] = [];
    let cursor = null;
    let pages = 0;
    let endedEarly = 0;
    do {
      const page = await searchMessagesByText(db.messageSearch, {
        query: { ...QUERY, search: SHORT_WORD },
        words: [SHORT_WORD],
        pageSize: 3,
        sortBy: "created_at",
        cursor,
        maxExamined: 150,
      });
      if (page.has_more && page.results.length < 3) endedEarly++;
      seen.push(...page.results.map((r) => r.conversation_id));
      cursor = page.next_cursor ? (decodeSearchCursor(page.next_cursor) ?? null) : null;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toEqual(expected);
    // Only SQLite reads the conversations' text itself, so only it stops at the budget.
    if (backend === "sqlite") expect(endedEarly).toBeGreaterThan(0);
  });

  it("walks a sparse word newest first within the budget, page after page, each match exactly once", async () => {
    // One conversation in 100 holds it, and its trigrams are everywhere: both backends walk by time,
    // so a page that may examine 150 conversations and wants 3 matches stops at the budget.
    const expected = expectedIds(holdsSparse);
    expect(expected).toHaveLength(COUNT / 100);
    const seen: string[] = [];
    let cursor = null;
    let pages = 0;
    let endedEarly = 0;
    do {
      const page = await searchMessagesByText(db.messageSearch, {
        query: { ...QUERY, search: SPARSE_WORD },
        words: [SPARSE_WORD],
        pageSize: 3,
        sortBy: "created_at",
        cursor,
        maxExamined: 150,
      });
      if (page.has_more && page.results.length < 3) endedEarly++;
      seen.push(...page.results.map((r) => r.conversation_id));
      cursor = page.next_cursor ? (decodeSearchCursor(page.next_cursor) ?? null) : null;
      pages++;
    } while (cursor && pages < 100);
    expect(endedEarly).toBeGreaterThan(0);
    expect(seen).toEqual(expected);
  });

  it("examines no more rows than the budget when a filter no index serves rejects them", async () => {
    // Every conversation holds the word and none lasts that long: the rows the filter rejects count.
    const walk = await db.messageSearch.walkCandidates(
      { ...QUERY, search: "understood", durationMin: 1_000_000 },
      null,
      20,
      300,
    );
    expect(walk.candidates).toEqual([]);
    expect(walk.examined).toBeLessThanOrEqual(300);
    expect(walk.resume).not.toBeNull();
  });

  // SQLite, which reads rows in steps, cannot tell: it reports a resume position when the budget is spent.
  it.runIf(backend === "postgres")(
    "tells a walk that ends exactly at the budget from one stopped by it",
    async () => {
      // The oldest 300 conversations, walked with a budget of 300 (and of 299).
      const from = { startTime: startAt(299), conversationId: idAt(299), inclusive: true };
      const query = { ...QUERY, search: "understood", durationMin: 1_000_000 };
      const ended = await db.messageSearch.walkCandidates(query, from, 20, 300);
      expect(ended.resume).toBeNull();
      const stopped = await db.messageSearch.walkCandidates(query, from, 20, 299);
      expect(stopped.resume).not.toBeNull();
    },
  );

  it("ranks no more documents by score than the ranking budget allows, when every conversation matches", async () => {
    const page = await searchMessagesByText(db.messageSearch, {
      query: { ...QUERY, search: "understood" },
      words: ["understood"],
      pageSize: 5,
      sortBy: "search_score",
      cursor: null,
    });
    // One message of each conversation holds the word: total counts the conversations ranked.
    const stored = await db.conversations.getConversation(idAt(COUNT - 1));
    const documentChars = stored?.json.length ?? 1;
    expect(page.meta.total).toBeGreaterThan(0);
    expect(page.meta.total ?? COUNT).toBeLessThanOrEqual(
      Math.ceil(MAX_RANKED_CHARS / (documentChars * 0.9)) + 1,
    );
    expect(page.meta.total ?? COUNT).toBeLessThan(COUNT);
  });

  it("finds every conversation a selective filter selects, and the best match, however far below the examined budget they lie", async () => {
    const expected = expectedIds(ofFewUser);
    expect(expected).toHaveLength(5);
    const request = {
      query: { ...QUERY, search: "understood", userId: FEW_USER },
      words: ["understood"],
      pageSize: 20,
      cursor: null,
      // The five lie below the newest 1,600 conversations: a walk of the search index would stop long before.
      maxExamined: 300,
    };
    const byScore = await searchMessagesByText(db.messageSearch, { ...request, sortBy: "search_score" });
    // Each of the five has one hit, and the oldest a second one: the best ("Understood.") ranks first.
    expect(byScore.meta.total).toBe(6);
    expect(byScore.has_more).toBe(false);
    expect(byScore.results[0]).toMatchObject({ conversation_id: idAt(11), chunk_text: "Understood." });
    expect(new Set(byScore.results.map((r) => r.conversation_id))).toEqual(new Set(expected));
    const byTime = await searchMessagesByText(db.messageSearch, { ...request, sortBy: "created_at" });
    expect(byTime.has_more).toBe(false);
    expect([...new Set(byTime.results.map((r) => r.conversation_id))]).toEqual(expected);
  });

  it("ranks the same window on every page of a search by score", async () => {
    const search = "understood";
    const request = {
      query: { ...QUERY, search },
      words: [search],
      pageSize: 50,
      sortBy: "search_score" as const,
      maxExamined: 400,
    };
    const first = await searchMessagesByText(db.messageSearch, { ...request, cursor: null });
    const cursor = first.next_cursor ? decodeSearchCursor(first.next_cursor) : undefined;
    expect(cursor).toBeDefined();
    const second = await searchMessagesByText(db.messageSearch, { ...request, cursor: cursor ?? null });
    expect(second.meta.total).toBe(first.meta.total);
    const firstIds = new Set(first.results.map((r) => `${r.conversation_id}#${r.transcript_index}`));
    expect(second.results.some((r) => firstIds.has(`${r.conversation_id}#${r.transcript_index}`))).toBe(
      false,
    );
  });
  it.runIf(backend === "postgres")(
    "starts a window read through the planner with its first batch: no step spent on the newest match",
    async () => {
      /** Walks through the planner and records each step's start and limit. */
      class RecordingStore extends PostgresMessageSearchStore {
        steps: { from: unknown; limit: number }[] = [];
        protected override async probeWalkByTime(): Promise<boolean> {
          return false;
        }
        override async walkCandidates(...args: Parameters<PostgresMessageSearchStore["walkCandidates"]>) {
          this.steps.push({ from: args[1], limit: args[2] });
          return super.walkCandidates(...args);
        }
      }
      const pool = new pg.Pool({ connectionString: storage.databaseUrl, max: 2 });
      try {
        const request = { ...ODD_UNDERSTOOD_BY_SCORE, pageSize: 5, cursor: null };
        const store = new RecordingStore(pool);
        const first = await searchMessagesByText(store, request);
        // The first step reads a whole batch from the top (before: one candidate, to find the newest).
        expect(store.steps[0]).toEqual({ from: null, limit: 50 });
        const cursor = first.next_cursor ? (decodeSearchCursor(first.next_cursor) ?? null) : null;
        expect(cursor?.mode === "score" ? cursor.path : undefined).toBe("planner");
        // A store that does not say its path takes the other flow (a step to find the newest
        // match): the page, its total and its cursor are the same.
        const recorded = new RecordingStore(pool);
        const control = new Proxy(recorded, {
          get: (target, key) => {
            if (key === "chooseWalkPath") return undefined;
            const value: unknown = Reflect.get(target, key, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
        const same = await searchMessagesByText(control, request);
        expect(recorded.steps[0]).toEqual({ from: null, limit: 1 });
        expect(same.results).toEqual(first.results);
        expect(same.meta.total).toBe(first.meta.total);
        expect(same.next_cursor && decodeSearchCursor(same.next_cursor)).toEqual(cursor);
      } finally {
        await pool.end();
      }
    },
  );
  it.runIf(backend === "postgres")(
    "ranks the window the first page chose on later pages, whatever the walk would choose then",
    async () => {
      /** A store whose choice between time order and the planner is fixed (two nodes that disagree). */
      class FixedChoiceStore extends PostgresMessageSearchStore {
        constructor(
          pool: pg.Pool,
          private readonly byTime: boolean,
        ) {
          super(pool);
        }
        protected override async probeWalkByTime(): Promise<boolean> {
          return this.byTime;
        }
      }
      const pool = new pg.Pool({ connectionString: storage.databaseUrl, max: 2 });
      try {
        const request = {
          ...ODD_UNDERSTOOD_BY_SCORE,
          // By time the window is the 60 newest conversations; through the planner, many more.
          maxExamined: 60,
        };
        const keyOf = (r: { conversation_id: string; transcript_index: number }) =>
          `${r.conversation_id}#${r.transcript_index}`;
        for (const firstByTime of [true, false]) {
          const whole = await searchMessagesByText(new FixedChoiceStore(pool, firstByTime), {
            ...request,
            pageSize: 50,
            cursor: null,
          });
          const first = await searchMessagesByText(new FixedChoiceStore(pool, firstByTime), {
            ...request,
            pageSize: 20,
            cursor: null,
          });
          const cursor = first.next_cursor ? (decodeSearchCursor(first.next_cursor) ?? null) : null;
          expect(cursor).not.toBeNull();
          const second = await searchMessagesByText(new FixedChoiceStore(pool, !firstByTime), {
            ...request,
            pageSize: 30,
            cursor,
          });
          expect(second.meta.total, String(firstByTime)).toBe(first.meta.total);
          expect([...first.results, ...second.results].map(keyOf)).toEqual(whole.results.map(keyOf));
        }
      } finally {
        await pool.end();
      }
    },
  );
});

describe.runIf(BACKENDS.includes("sqlite"))("hostile message search plans on SQLite", () => {
  let storage: TestStorage;
  let db: Database;

  beforeAll(async () => {
    storage = createTestStorage("sqlite");
    db = await storage.open();
    const records = Array.from({ length: 300 }, (_, i) => buildConversationRecord(docAt(i)));
    await db.conversations.upsertConversations(records);
  });
  afterAll(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  it("never runs the trigram search once per conversation", async () => {
    const raw = new BetterSqlite3(path.join(storage.dataDir, "openconvai.sqlite"));
    try {
      const prepared: string[] = [];
      const recording = new Proxy(raw, {
        get(target, property) {
          if (property === "prepare") {
            return (sql: string) => {
              prepared.push(sql);
              return target.prepare(sql);
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const store = new SqliteMessageSearchStore(recording);
      for (const search of [LONG_WORD, MANY_WORDS.join(" "), HOSTILE_WORDS.join(" "), SHORT_WORD]) {
        await store.findCandidates({ ...QUERY, search, agentId: "agent_even" }, null, 100);
        await store.findCandidates(
          { ...QUERY, search },
          { startTime: startAt(100), conversationId: idAt(100), inclusive: true },
          100,
        );
      }
      expect(prepared.length).toBeGreaterThan(0);
      for (const sql of new Set(prepared)) {
        const parameters = sql.match(/\?/g)?.length ?? 0;
        const plan = (
          raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(parameters).fill("1")) as { detail: string }[]
        ).map((row) => row.detail);
        // A scan of the conversations with the search text looked up (and searched) for each row.
        expect(
          plan.filter((detail) => /^SCAN c\b/.test(detail)),
          sql,
        ).toEqual([]);
        expect(
          plan.filter((detail) => /EXISTS VIRTUAL TABLE|CORRELATED/.test(detail)),
          sql,
        ).toEqual([]);
      }
    } finally {
      raw.close();
    }
  });

  it("reads the newest rows directly when the query's trigrams are everywhere, and uses the trigram index when they are rare", async () => {
    const raw = new BetterSqlite3(path.join(storage.dataDir, "openconvai.sqlite"));
    try {
      let executed: string[] = [];
      const recording = new Proxy(raw, {
        get(target, property) {
          if (property === "prepare") {
            return (sql: string) => {
              const statement = target.prepare(sql);
              return new Proxy(statement, {
                get(st, key) {
                  const value = Reflect.get(st, key);
                  if (key !== "all" || typeof value !== "function") return value;
                  return (...args: unknown[]) => {
                    executed.push(sql);
                    return value.apply(st, args);
                  };
                },
              });
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const store = new SqliteMessageSearchStore(recording);
      const usesIndex = async (search: string, limit: number) => {
        executed = [];
        await store.walkCandidates({ ...QUERY, search }, null, limit, 300);
        expect(executed.length, search).toBeGreaterThan(0);
        return executed.some((sql) => sql.includes("MATCH"));
      };
      // Words in every conversation, and words whose trigrams are in every one: the index would not narrow.
      expect(await usesIndex("caller agent refund understood", 20)).toBe(false);
      expect(await usesIndex(HOSTILE_WORDS.join(" "), 20)).toBe(false);
      // A word in one conversation of 250: the index narrows the walk to it.
      expect(await usesIndex("reference", 1)).toBe(true);
    } finally {
      raw.close();
    }
  });
});

describe.each(BACKENDS)("hostile queries over HTTP on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(
      server,
      Array.from({ length: 40 }, (_, i) => docAt(i)),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers a 500-character query and a 16-word query with exactly the messages holding them", async () => {
    for (const [route, extra] of [
      ["text-search", "&sort_by=created_at"],
      ["text-search", ""],
      ["smart-search", ""],
    ] as const) {
      const long = await server.fetch(
        `/v1/convai/conversations/messages/${route}?text_query=${LONG_WORD}${extra}`,
      );
      expect(long.status).toBe(200);
      const longBody = (await long.json()) as { results: { conversation_id: string; chunk_text: string }[] };
      expect(longBody.results.map((r) => r.conversation_id)).toEqual([idAt(5)]);
      expect(longBody.results[0]?.chunk_text).toContain(LONG_WORD);

      const many = await server.fetch(
        `/v1/convai/conversations/messages/${route}?text_query=${encodeURIComponent(MANY_WORDS.join(" "))}${extra}`,
      );
      expect(many.status).toBe(200);
      const manyBody = (await many.json()) as { results: { conversation_id: string }[] };
      // Conversation 8 holds 15 of the 16 words: not a candidate.
      expect(manyBody.results.map((r) => r.conversation_id)).toEqual([idAt(7)]);
    }
  });
});

describe("text ranking of many-word queries", () => {
  it("finds letters that fold to ASCII ones in non-ASCII text", () => {
    // "ſ" folds to "s" and the Kelvin sign to "k", as PostgreSQL and SQLite now find them too.
    const prepared = prepareQuery(["s", "k"]);
    expect(scoreChunk("\u017f \u212a", prepared)).toBeGreaterThan(0);
  });
});

describe("score cursors", () => {
  it("carry the walk's path, and still decode without it (cursors made before)", () => {
    const last = { score: 1.5, startTime: 10, conversationId: "c1", transcriptIndex: 2, chunk: 0 };
    const top = { startTime: 20, conversationId: "c9" };
    const withPath = { mode: "score" as const, page: 1, top, last, path: "time" as const };
    expect(decodeSearchCursor(encodeSearchCursor(withPath))).toEqual(withPath);
    const old = Buffer.from(JSON.stringify(["s", 1, 1.5, 10, "c1", 2, 0, 20, "c9"])).toString("base64url");
    expect(decodeSearchCursor(old)).toEqual({ mode: "score", page: 1, top, last });
    const bad = Buffer.from(JSON.stringify(["s", 1, 1.5, 10, "c1", 2, 0, 20, "c9", "x"])).toString(
      "base64url",
    );
    expect(decodeSearchCursor(bad)).toBeUndefined();
  });
});
