import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConversationDoc, ConversationRecord } from "../src/domain/conversation.js";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import type { ListQuery } from "../src/domain/list-query.js";
import { SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";
import {
  type ApiKeyRow,
  type Database,
  type ListRow,
  RecordsRefusedError,
  SchemaTooNewError,
} from "../src/store/store.js";
import { BACKENDS, type Backend, createTestStorage, type TestStorage } from "./support/backends.js";
import { listQuery } from "./support/list-query.js";
import { queryTestDatabase } from "./support/postgres-schema.js";

/** What a test conversation looks like; everything optional has a plain default. */
interface DocSpec {
  start?: number;
  duration?: number;
  agentId?: string;
  status?: string;
  callSuccessful?: string;
  userId?: string;
  language?: string;
  rating?: number;
  comment?: string;
  textOnly?: boolean;
  messages?: string[];
  summary?: string;
  tags?: string[];
  tools?: string[];
  evaluations?: Record<string, string>;
  data?: Record<string, unknown>;
  dynamicVariables?: Record<string, unknown>;
}

function makeDoc(id: string, spec: DocSpec = {}): ConversationDoc {
  const messages = spec.messages ?? ["Hi", "Hello, how can I help?"];
  const transcript: Record<string, unknown>[] = messages.map((message, i) => ({
    role: i % 2 === 0 ? "user" : "agent",
    message,
    time_in_call_secs: i,
  }));
  for (const [i, tool] of (spec.tools ?? []).entries()) {
    transcript.push({
      role: "agent",
      message: null,
      time_in_call_secs: messages.length + i,
      tool_calls: [
        { tool_name: tool, request_id: `req_${i}`, params_as_json: "{}", tool_has_been_called: true },
      ],
      tool_results: [{ tool_name: tool, request_id: `req_${i}`, result_value: "ok", is_error: false }],
    });
  }
  const feedback: Record<string, unknown> = {};
  if (spec.rating !== undefined) feedback.rating = spec.rating;
  if (spec.comment !== undefined) feedback.comment = spec.comment;
  const doc: ConversationDoc = {
    agent_id: spec.agentId ?? "agent_default",
    conversation_id: id,
    status: spec.status ?? "done",
    transcript,
    metadata: {
      start_time_unix_secs: spec.start ?? 1_700_000_000,
      call_duration_secs: spec.duration ?? 60,
      main_language: spec.language ?? "en",
      text_only: spec.textOnly ?? false,
      feedback,
    },
    analysis: {
      call_successful: spec.callSuccessful ?? "success",
      transcript_summary: spec.summary ?? "A short call.",
      evaluation_criteria_results: Object.fromEntries(
        Object.entries(spec.evaluations ?? {}).map(([key, result]) => [
          key,
          { criteria_id: key, result, rationale: "" },
        ]),
      ),
      data_collection_results: Object.fromEntries(
        Object.entries(spec.data ?? {}).map(([key, value]) => [
          key,
          { data_collection_id: key, value, rationale: "" },
        ]),
      ),
    },
    conversation_initiation_client_data: { dynamic_variables: spec.dynamicVariables ?? {} },
    tag_ids: spec.tags ?? [],
  };
  if (spec.userId !== undefined) doc.user_id = spec.userId;
  return doc;
}

function makeRecord(id: string, spec: DocSpec = {}): ConversationRecord {
  return buildConversationRecord(makeDoc(id, spec));
}

function idsOf(items: readonly ListRow[]): string[] {
  return items.map((item) => (JSON.parse(item.listItemJson) as { conversation_id: string }).conversation_id);
}

/** Orders like the list does: by start time, ties by conversation id in binary (code point) order. */
function compareListOrder(a: { start: number; id: string }, b: { start: number; id: string }): number {
  if (a.start !== b.start) return a.start - b.start;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Runs SQL on the backend's database directly, beside the store: to look at what the interface hides. */
async function queryRaw(
  backend: Backend,
  storage: TestStorage,
  sql: string,
): Promise<Record<string, unknown>[]> {
  if (backend === "postgres") {
    if (!storage.databaseUrl) throw new Error("PostgreSQL storage without a URL");
    return queryTestDatabase(storage.databaseUrl, sql);
  }
  const db = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
  try {
    const statement = db.prepare(sql);
    if (statement.reader) return statement.all() as Record<string, unknown>[];
    statement.run();
    return [];
  } finally {
    db.close();
  }
}

async function countRows(backend: Backend, storage: TestStorage, table: string): Promise<number> {
  const [row] = await queryRaw(backend, storage, `SELECT count(*) AS n FROM ${table}`);
  return Number(row?.n);
}

describe.each(BACKENDS)("store contract on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;

  beforeEach(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
  });

  afterEach(async () => {
    await db.close();
    await storage.cleanup();
  });

  describe("upsert", () => {
    it("reports created for a new conversation and replaced for a known one", async () => {
      expect(await db.conversations.upsertConversations([makeRecord("c1", { summary: "first" })])).toEqual([
        "created",
      ]);
      const second = makeRecord("c1", { summary: "second" });
      expect(await db.conversations.upsertConversations([second, makeRecord("c2")])).toEqual([
        "replaced",
        "created",
      ]);
      expect(await db.conversations.countConversations()).toBe(2);
      expect((await db.conversations.getConversation("c1"))?.json).toBe(second.json);
    });

    it("creates a conversation named twice in one batch once and keeps its last version", async () => {
      const first = makeRecord("dup", { tags: ["tag_first"] });
      const last = makeRecord("dup", { tags: ["tag_last"] });
      expect(await db.conversations.upsertConversations([first, last])).toEqual(["created", "replaced"]);
      expect(await db.conversations.countConversations()).toBe(1);
      expect((await db.conversations.getConversation("dup"))?.json).toBe(last.json);
      const byTag = async (tag: string) =>
        idsOf(
          (await db.conversations.listConversations(listQuery({ anyOf: [{ kind: "tag", values: [tag] }] })))
            .items,
        );
      expect(await byTag("tag_first")).toEqual([]);
      expect(await byTag("tag_last")).toEqual(["dup"]);
    });

    it("returns an empty outcome list for an empty batch", async () => {
      expect(await db.conversations.upsertConversations([])).toEqual([]);
      expect(await db.conversations.countConversations()).toBe(0);
    });

    it("returns the stored document text byte for byte", async () => {
      // Hand-written JSON a re-serialising store would change: key order, spacing, number forms,
      // escapes, duplicate keys, characters outside the BMP.
      const json =
        '{"z":1,  "a":[1.50,1e2,-0.0],"conversation_id":"exact","name":"caf\\u00e9 ☕ 😀 日本語",' +
        '"dup":1,"dup":2,"nested":{"empty":{},"list":[]},"line":"a\\nb\\"c\\\\d"}';
      const record = { ...makeRecord("exact"), json };
      await db.conversations.upsertConversations([record]);
      const stored = await db.conversations.getConversation("exact");
      expect(stored?.json).toBe(json);
    });

    it("stores strings holding U+0000 and still finds the conversation", async () => {
      const record = makeRecord("nul\u0000id", {
        messages: ["before\u0000after"],
        summary: "zero\u0000byte",
        dynamicVariables: { odd: "x\u0000y" },
      });
      expect(await db.conversations.upsertConversations([record])).toEqual(["created"]);
      expect((await db.conversations.getConversation("nul\u0000id"))?.json).toBe(record.json);
      const found = await db.conversations.listConversations(listQuery({ search: "after" }));
      expect(found.items).toHaveLength(1);
      expect(JSON.parse(found.items[0]?.listItemJson ?? "{}").conversation_id).toBe("nul\u0000id");
      expect(await db.conversations.deleteConversation("nul\u0000id")).toEqual({ audio: null });
    });

    it("moves a changed row in every index, and keeps unchanged facets, when a conversation is changed", async () => {
      await db.conversations.upsertConversations([
        makeRecord("moving", { agentId: "agent_old", userId: "u_old", tags: ["kept_tag"] }),
      ]);
      const list = async (filter: Partial<ListQuery>) =>
        idsOf((await db.conversations.listConversations(listQuery(filter))).items);
      // The indexed columns stay as they are; only the status changes (a live session's writes).
      await db.conversations.updateConversation("moving", () =>
        makeRecord("moving", { agentId: "agent_old", userId: "u_old", status: "done", tags: ["kept_tag"] }),
      );
      expect(await list({ agentId: "agent_old" })).toEqual(["moving"]);
      expect(await list({ anyOf: [{ kind: "tag", values: ["kept_tag"] }] })).toEqual(["moving"]);
      // Then the agent, the user and a facet change.
      await db.conversations.updateConversation("moving", () =>
        makeRecord("moving", { agentId: "agent_new", userId: "u_new", status: "done", tags: ["new_tag"] }),
      );
      expect(await list({ agentId: "agent_old" })).toEqual([]);
      expect(await list({ agentId: "agent_new" })).toEqual(["moving"]);
      expect(await list({ userId: "u_old" })).toEqual([]);
      expect(await list({ userId: "u_new" })).toEqual(["moving"]);
      expect(await list({ anyOf: [{ kind: "tag", values: ["kept_tag"] }] })).toEqual([]);
      expect(await list({ anyOf: [{ kind: "tag", values: ["new_tag"] }] })).toEqual(["moving"]);
    });

    it("writes nothing of a batch when one record violates a constraint", async () => {
      const before = makeRecord("kept", { summary: "version one", tags: ["old_tag"] });
      await db.conversations.upsertConversations([before]);

      // agent_id is NOT NULL in both schemas; the type system would stop this, the database must too.
      const broken = makeRecord("broken");
      const violating: ConversationRecord = {
        ...broken,
        index: { ...broken.index, agentId: null as unknown as string },
      };
      const batch = [
        makeRecord("new_one", { tags: ["new_tag"] }),
        makeRecord("kept", { summary: "version two", tags: ["replacement_tag"] }),
        violating,
      ];
      await expect(db.conversations.upsertConversations(batch)).rejects.toThrow(/agent_id/);

      expect(await db.conversations.countConversations()).toBe(1);
      expect(await db.conversations.getConversation("new_one")).toBeUndefined();
      expect(await db.conversations.getConversation("broken")).toBeUndefined();
      expect((await db.conversations.getConversation("kept"))?.json).toBe(before.json);
      const tagged = async (tag: string) =>
        idsOf(
          (await db.conversations.listConversations(listQuery({ anyOf: [{ kind: "tag", values: [tag] }] })))
            .items,
        );
      expect(await tagged("old_tag")).toEqual(["kept"]);
      expect(await tagged("replacement_tag")).toEqual([]);
      expect(await tagged("new_tag")).toEqual([]);
      // The store is still usable after the failed transaction.
      expect(await db.conversations.upsertConversations([makeRecord("after")])).toEqual(["created"]);
    });
  });

  describe("refused records", () => {
    it("says a batch was refused for what it holds (RecordsRefusedError), and writes nothing of it", async () => {
      // The database itself refuses one id, as it would a value it cannot hold.
      await queryRaw(
        backend,
        storage,
        backend === "postgres"
          ? "ALTER TABLE conversations ADD CONSTRAINT refuse_poison CHECK (conversation_id <> 'poison')"
          : "CREATE TRIGGER refuse_poison BEFORE INSERT ON conversations WHEN NEW.conversation_id = 'poison' " +
              "BEGIN SELECT RAISE(ABORT, 'refuse_poison'); END",
      );
      const batch = [makeRecord("good_1"), makeRecord("poison"), makeRecord("good_2")];
      const refused = db.conversations.upsertConversations(batch);
      await expect(refused).rejects.toBeInstanceOf(RecordsRefusedError);
      await expect(refused).rejects.toThrow(/refuse_poison/);
      expect(await db.conversations.countConversations()).toBe(0);
      // The same records without the refused one go in.
      expect(
        await db.conversations.upsertConversations([batch[0], batch[2]].flatMap((r) => (r ? [r] : []))),
      ).toEqual(["created", "created"]);
    });

    it("keeps a record the code built wrong (a NOT NULL column empty) an ordinary error", async () => {
      const broken = makeRecord("broken");
      const violating: ConversationRecord = {
        ...broken,
        index: { ...broken.index, agentId: null as unknown as string },
      };
      const error = await db.conversations.upsertConversations([violating]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(RecordsRefusedError);
    });
  });

  describe("list order and pagination", () => {
    // Three ties at one start time; binary order puts upper case before lower case.
    const orderDocs = [
      { id: "z_early", start: 100 },
      { id: "conv_B", start: 200 },
      { id: "conv_a", start: 200 },
      { id: "conv_C", start: 200 },
      { id: "a_late", start: 300 },
    ];

    it("orders by start time descending, ties by conversation id descending", async () => {
      await db.conversations.upsertConversations(orderDocs.map((d) => makeRecord(d.id, { start: d.start })));
      const page = await db.conversations.listConversations(listQuery({ direction: "desc" }));
      expect(idsOf(page.items)).toEqual(["a_late", "conv_a", "conv_C", "conv_B", "z_early"]);
      expect(page.hasMore).toBe(false);
      expect(page.nextCursor).toBeNull();
    });

    it("orders by start time ascending, ties by conversation id ascending", async () => {
      await db.conversations.upsertConversations(orderDocs.map((d) => makeRecord(d.id, { start: d.start })));
      const page = await db.conversations.listConversations(listQuery({ direction: "asc" }));
      expect(idsOf(page.items)).toEqual(["z_early", "conv_B", "conv_C", "conv_a", "a_late"]);
    });

    const pagedDocs = [
      { id: "p_A", start: 1_700_000_010.5 },
      { id: "p_b", start: 1_700_000_020.25 },
      { id: "p_C", start: 1_700_000_020.25 },
      { id: "p_d", start: 1_700_000_020.25 },
      { id: "p_E", start: 1_700_000_030 },
      { id: "p_f", start: 1_700_000_040.125 },
      { id: "p_G", start: 1_700_000_040.125 },
    ];

    for (const direction of ["desc", "asc"] as const) {
      it(`walks every conversation once with keyset cursors (${direction})`, async () => {
        await db.conversations.upsertConversations(
          pagedDocs.map((d) => makeRecord(d.id, { start: d.start })),
        );
        const expected = [...pagedDocs].sort(compareListOrder).map((d) => d.id);
        if (direction === "desc") expected.reverse();

        const seen: string[] = [];
        const hasMore: boolean[] = [];
        let cursor: ListQuery["cursor"] = null;
        for (let i = 0; i < 10; i++) {
          const page = await db.conversations.listConversations(
            listQuery({ pageSize: 3, cursor, direction }),
          );
          const ids = idsOf(page.items);
          seen.push(...ids);
          hasMore.push(page.hasMore);
          if (page.hasMore) {
            const last = pagedDocs.find((d) => d.id === ids[ids.length - 1]);
            expect(page.nextCursor).toEqual({ startTime: last?.start, conversationId: last?.id });
          } else {
            expect(page.nextCursor).toBeNull();
          }
          cursor = page.nextCursor;
          if (!cursor) break;
        }
        expect(seen).toEqual(expected);
        expect(hasMore).toEqual([true, true, false]);
      });
    }
  });

  describe("list filters", () => {
    beforeEach(async () => {
      await db.conversations.upsertConversations([
        makeRecord("f1", {
          start: 1000,
          agentId: "agent_a",
          userId: "u1",
          callSuccessful: "success",
          duration: 30,
          rating: 5,
          comment: "great",
          textOnly: false,
          language: "en",
          tags: ["t1"],
          tools: ["lookup"],
          evaluations: { goal: "success" },
          data: { age: 42, city: "Paris" },
          dynamicVariables: { plan: "pro" },
        }),
        makeRecord("f2", {
          start: 2000,
          agentId: "agent_a",
          userId: "u2",
          callSuccessful: "failure",
          duration: 120,
          rating: 2,
          textOnly: true,
          language: "ja",
          tags: ["t2"],
          evaluations: { goal: "failure" },
          data: { age: 17 },
          dynamicVariables: { plan: "free" },
        }),
        makeRecord("f3", {
          start: 3000,
          agentId: "agent_b",
          status: "failed",
          callSuccessful: "unknown",
          duration: 5,
          language: "en",
          tags: ["t1", "t2"],
          tools: ["lookup", "book"],
        }),
        makeRecord("f4", {
          start: 4000,
          agentId: "agent_b",
          userId: "u1",
          status: "processing",
          callSuccessful: "success",
          duration: 60,
          rating: 4,
          comment: "   ",
          language: "de",
        }),
      ]);
    });

    const cases: [string, Partial<ListQuery>, string[]][] = [
      ["agent", { agentId: "agent_a" }, ["f2", "f1"]],
      ["user", { userId: "u1" }, ["f4", "f1"]],
      ["call_successful", { callSuccessful: ["success"] }, ["f4", "f1"]],
      [
        "call_successful or failed status",
        { callSuccessful: ["failure"], callFailedStatus: true },
        ["f3", "f2"],
      ],
      ["start time window", { startAfter: 1500, startBefore: 3500 }, ["f3", "f2"]],
      ["duration range", { durationMin: 30, durationMax: 60 }, ["f4", "f1"]],
      ["minimum rating", { ratingMin: 4 }, ["f4", "f1"]],
      ["rating range", { ratingMin: 2, ratingMax: 4 }, ["f4", "f2"]],
      ["has a feedback comment", { hasFeedbackComment: true }, ["f1"]],
      ["has no feedback comment", { hasFeedbackComment: false }, ["f4", "f3", "f2"]],
      ["text only", { textOnly: true }, ["f2"]],
      ["main languages", { mainLanguages: ["en", "de"] }, ["f4", "f3", "f1"]],
      ["excluded statuses", { excludeStatuses: ["failed", "processing"] }, ["f2", "f1"]],
      ["any of tags", { anyOf: [{ kind: "tag", values: ["t2"] }] }, ["f3", "f2"]],
      ["any of tools", { anyOf: [{ kind: "tool", values: ["book", "missing"] }] }, ["f3"]],
      [
        "two any-of conditions together",
        {
          anyOf: [
            { kind: "tag", values: ["t1"] },
            { kind: "tool", values: ["lookup"] },
          ],
        },
        ["f3", "f1"],
      ],
      ["evaluation result", { evaluations: [{ key: "goal", value: "success" }] }, ["f1"]],
      ["data collection gt", { dataCollection: [{ key: "age", op: "gt", values: ["18"] }] }, ["f1"]],
      ["data collection lte", { dataCollection: [{ key: "age", op: "lte", values: ["17"] }] }, ["f2"]],
      ["data collection in", { dataCollection: [{ key: "age", op: "in", values: ["17", "99"] }] }, ["f2"]],
      [
        "data collection not set",
        { dataCollection: [{ key: "city", op: "eq", values: [""] }] },
        ["f4", "f3", "f2"],
      ],
      ["data collection set", { dataCollection: [{ key: "city", op: "neq", values: [""] }] }, ["f1"]],
      ["dynamic variable eq", { dynamicVariables: [{ key: "plan", op: "eq", values: ["pro"] }] }, ["f1"]],
      ["dynamic variable neq", { dynamicVariables: [{ key: "plan", op: "neq", values: ["free"] }] }, ["f1"]],
      ["agent and tag together", { agentId: "agent_b", anyOf: [{ kind: "tag", values: ["t1"] }] }, ["f3"]],
    ];

    it.each(cases)("filters by %s", async (_name, filter, expected) => {
      const page = await db.conversations.listConversations(listQuery(filter));
      expect(idsOf(page.items)).toEqual(expected);
    });

    it("pages through a filtered list", async () => {
      const first = await db.conversations.listConversations(listQuery({ agentId: "agent_a", pageSize: 1 }));
      expect(idsOf(first.items)).toEqual(["f2"]);
      expect(first.hasMore).toBe(true);
      const second = await db.conversations.listConversations(
        listQuery({ agentId: "agent_a", pageSize: 1, cursor: first.nextCursor }),
      );
      expect(idsOf(second.items)).toEqual(["f1"]);
      expect(second.hasMore).toBe(false);
    });

    it("returns the list projections stored with each conversation", async () => {
      const page = await db.conversations.listConversations(
        listQuery({ agentId: "agent_a", direction: "asc" }),
      );
      const [f1] = page.items;
      expect(f1?.transcriptSummary).toBe("A short call.");
      expect(JSON.parse(f1?.evaluationResultsJson ?? "null")).toEqual({ goal: { result: "success" } });
      expect(JSON.parse(f1?.dataCollectionResultsJson ?? "null")).toEqual({ age: 42, city: "Paris" });
    });
  });

  describe("search ordering and paging", () => {
    // Many matches in few seconds (fractional times and exact ties): the page boundaries fall
    // inside seconds, where the search path has to restore the exact (start time, id) order.
    // 260 matches of the common word: more than PostgreSQL's probe (200), so both of its search
    // paths run (the trigram index for the rare word, the time-ordered walk for the common one).
    const docs = Array.from({ length: 260 }, (_, i) => ({
      id: `p${String((i * 37) % 260).padStart(3, "0")}`,
      start: 1_000 + Math.floor(i / 25) + (i % 5 === 0 ? 0.5 : 0) + (i % 7 === 0 ? 0.25 : 0),
      rare: i % 17 === 0,
    }));

    beforeEach(async () => {
      await db.conversations.upsertConversations(
        docs.map((d) =>
          makeRecord(d.id, { start: d.start, messages: [d.rare ? "a zanzibar order" : "an ordinary order"] }),
        ),
      );
    });

    async function pageThrough(query: Partial<ListQuery>): Promise<string[]> {
      const seen: string[] = [];
      let cursor: ListQuery["cursor"] = null;
      for (let pages = 0; pages < 100; pages++) {
        const page = await db.conversations.listConversations(listQuery({ ...query, cursor, pageSize: 7 }));
        seen.push(...idsOf(page.items));
        if (!page.hasMore) return seen;
        cursor = page.nextCursor;
      }
      throw new Error("did not reach the last page");
    }

    for (const direction of ["desc", "asc"] as const) {
      for (const [word, pick] of [
        ["order", () => true],
        ["zanzibar", (d: { rare: boolean }) => d.rare],
        // Two words walked in list order: PostgreSQL's bounded walk.
        ["ordinary order", (d: { rare: boolean }) => !d.rare],
      ] as const) {
        it(`pages through every match of "${word}" in exact list order (${direction})`, async () => {
          const expected = docs
            .filter(pick)
            .map((d) => ({ start: d.start, id: d.id }))
            .sort(compareListOrder)
            .map((d) => d.id);
          if (direction === "desc") expected.reverse();
          expect(await pageThrough({ search: word, direction })).toEqual(expected);
        });
      }
    }
  });

  describe("search whose words are each common but rarely together", () => {
    // 2,600 conversations, each with "alpha" or "beta" (both in most of the newest), and both in
    // every 700th: more rows than PostgreSQL's bounded walk reads for a page (2,000).
    const docs = Array.from({ length: 2_600 }, (_, i) => ({
      id: `w${String(i).padStart(4, "0")}`,
      start: 10_000 + i,
      both: i % 700 === 7,
    }));

    beforeEach(async () => {
      await db.conversations.upsertConversations(
        docs.map((d) =>
          makeRecord(d.id, {
            start: d.start,
            messages: [d.both ? "alpha and beta" : d.start % 2 === 0 ? "alpha only" : "beta only"],
            // Two fail, 2,500 apart: a filter the walk could only check row by row.
            callSuccessful: d.start % 2_500 === 0 ? "failure" : "success",
          }),
        ),
      );
    });

    for (const direction of ["desc", "asc"] as const) {
      it(`finds every match through the cursors, in list order (${direction})`, async () => {
        const expected = docs.filter((d) => d.both).map((d) => d.id);
        if (direction === "desc") expected.reverse();
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: ListQuery["cursor"] = null;
        for (let pages = 0; pages < 20; pages++) {
          const page = await db.conversations.listConversations(
            listQuery({ search: "alpha beta", direction, cursor, pageSize: 5 }),
          );
          seen.push(...idsOf(page.items));
          sizes.push(page.items.length);
          if (!page.hasMore) break;
          cursor = page.nextCursor;
        }
        expect(seen).toEqual(expected);
        // PostgreSQL reads such a search by a walk of at most 2,000 conversations a page: a page
        // can end early, with fewer results and a cursor to carry on from.
        if (backend === "postgres") expect(sizes.slice(0, -1).some((n) => n < 5)).toBe(true);
      });
    }

    it("fills every page when another filter can only be checked row by row", async () => {
      // Common words with a rare filter: a walk of 2,000 conversations a page would end the first
      // page early; the planner's statement finds both.
      const pages: string[][] = [];
      let cursor: ListQuery["cursor"] = null;
      for (let n = 0; n < 5; n++) {
        const page = await db.conversations.listConversations(
          listQuery({ search: "alpha only", callSuccessful: ["failure"], cursor, pageSize: 2 }),
        );
        pages.push(idsOf(page.items));
        if (!page.hasMore) break;
        cursor = page.nextCursor;
      }
      expect(pages).toEqual([["w2500", "w0000"]]);
    });
  });

  describe("search", () => {
    beforeEach(async () => {
      await db.conversations.upsertConversations([
        makeRecord("s1", {
          start: 1,
          messages: [
            "Hello there, I need help with my Yellowstone booking",
            "Sure, the reservation code is ABC-123",
          ],
          summary: "Customer asked about a park reservation",
        }),
        makeRecord("s2", {
          start: 2,
          messages: ["東京都の天気を教えてください", "晴れです"],
          summary: "天気の問い合わせ",
        }),
        makeRecord("s3", { start: 3, messages: ["Save 100% now", "ok"], summary: "discount" }),
        makeRecord("s4", { start: 4, messages: ["Save 1000 now"], summary: "discount" }),
      ]);
    });

    const cases: [string, string, string[]][] = [
      ["a word in another case", "YELLOWSTONE", ["s1"]],
      ["a substring inside a word", "llowst", ["s1"]],
      ["every token, in any place", "code reservation", ["s1"]],
      ["nothing when one token is missing", "reservation 晴れ", []],
      ["the summary", "park", ["s1"]],
      ["Japanese, two characters", "東京", ["s2"]],
      ["Japanese inside a sentence", "天気を教", ["s2"]],
      ["a percent sign literally", "100%", ["s3"]],
      ["an underscore literally", "1_0", []],
      ["a one-character token", "%", ["s3"]],
      ["several conversations, newest first", "save", ["s4", "s3"]],
    ];

    it.each(cases)("matches %s", async (_name, search, expected) => {
      const page = await db.conversations.listConversations(listQuery({ search }));
      expect(idsOf(page.items)).toEqual(expected);
    });

    it("combines search with other filters", async () => {
      const page = await db.conversations.listConversations(listQuery({ search: "save", startBefore: 4 }));
      expect(idsOf(page.items)).toEqual(["s3"]);
    });

    it("searches the new text of a replaced conversation only", async () => {
      await db.conversations.upsertConversations([
        makeRecord("s1", { start: 1, messages: ["Grand Canyon"] }),
      ]);
      expect(
        idsOf((await db.conversations.listConversations(listQuery({ search: "yellowstone" }))).items),
      ).toEqual([]);
      expect(
        idsOf((await db.conversations.listConversations(listQuery({ search: "canyon" }))).items),
      ).toEqual(["s1"]);
    });
  });

  describe("delete", () => {
    it("removes the conversation with its facet and search rows", async () => {
      await db.conversations.upsertConversations([
        makeRecord("gone", { tags: ["gone_tag"], messages: ["unmistakable"], dynamicVariables: { v: 1 } }),
      ]);
      expect(await countRows(backend, storage, "facets")).toBeGreaterThan(0);
      expect(await db.conversations.deleteConversation("gone")).toEqual({ audio: null });

      expect(await db.conversations.getConversation("gone")).toBeUndefined();
      expect(await db.conversations.countConversations()).toBe(0);
      expect(await countRows(backend, storage, "facets")).toBe(0);
      // SQLite keeps search text in an FTS table; PostgreSQL in a column of the conversation row.
      expect(
        await countRows(backend, storage, backend === "sqlite" ? "conversation_text" : "conversations"),
      ).toBe(0);

      // A later conversation (which may reuse the row id) matches none of the old index rows.
      await db.conversations.upsertConversations([makeRecord("next", { messages: ["plain"] })]);
      const byTag = await db.conversations.listConversations(
        listQuery({ anyOf: [{ kind: "tag", values: ["gone_tag"] }] }),
      );
      expect(byTag.items).toEqual([]);
      expect((await db.conversations.listConversations(listQuery({ search: "unmistakable" }))).items).toEqual(
        [],
      );
    });

    it("returns false for an unknown conversation", async () => {
      expect(await db.conversations.deleteConversation("nope")).toBeUndefined();
    });
  });

  describe("audio", () => {
    const audio = { blobKey: "audio/a1.mp3", contentType: "audio/mpeg", size: 5_000_000_000 };

    it("refuses audio for an unknown conversation", async () => {
      expect(await db.conversations.setAudio("nope", audio)).toBeUndefined();
    });

    it("putConversation says created with no audio, then replaced with the audio the row keeps", async () => {
      expect(await db.conversations.putConversation(makeRecord("p1"))).toEqual({
        outcome: "created",
        audio: null,
      });
      expect(await db.conversations.putConversation(makeRecord("p1", { summary: "again" }))).toEqual({
        outcome: "replaced",
        audio: null,
      });
      await db.conversations.setAudio("p1", audio);
      const replacement = makeRecord("p1", { summary: "third" });
      expect(await db.conversations.putConversation(replacement)).toEqual({ outcome: "replaced", audio });
      expect((await db.conversations.getConversation("p1"))?.json).toBe(replacement.json);
    });

    it("records audio, keeps it on replace and hands it back on delete", async () => {
      await db.conversations.upsertConversations([makeRecord("a1")]);
      expect((await db.conversations.getConversation("a1"))?.audio).toBeNull();

      expect(await db.conversations.setAudio("a1", audio)).toEqual({ replaced: null });
      const second = { ...audio, blobKey: "audio/a1-second.mp3", size: 7 };
      expect(await db.conversations.setAudio("a1", second)).toEqual({ replaced: audio });
      expect(await db.conversations.setAudio("a1", audio)).toEqual({ replaced: second });
      expect((await db.conversations.getConversation("a1"))?.audio).toEqual(audio);

      const replacement = makeRecord("a1", { summary: "replaced" });
      expect(await db.conversations.upsertConversations([replacement])).toEqual(["replaced"]);
      const stored = await db.conversations.getConversation("a1");
      expect(stored?.json).toBe(replacement.json);
      expect(stored?.audio).toEqual(audio);

      expect(await db.conversations.deleteConversation("a1")).toEqual({ audio });
    });
  });

  describe("keys", () => {
    const key = (id: string, prefix: string, createdAt: number): ApiKeyRow => ({
      id,
      name: `key ${id}`,
      prefix,
      hash: `hash_${id}`,
      createdAtUnixSecs: createdAt,
      revokedAtUnixSecs: null,
    });

    it("inserts, finds, lists and revokes keys", async () => {
      const k2 = key("k2", "oc_bbbbbbb", 200);
      const k1 = key("k1", "oc_aaaaaaa", 100);
      const k3 = key("K3", "oc_ccccccc", 200);
      for (const k of [k2, k1, k3]) await db.keys.insertKey(k);

      expect(await db.keys.listKeys()).toEqual([k1, k3, k2]);
      expect(await db.keys.findActiveKeyByHash("hash_k1")).toEqual(k1);
      expect(await db.keys.findActiveKeyByHash("hash_unknown")).toBeUndefined();

      expect(await db.keys.revokeKey("oc_aaaaaaa", 500)).toBe(1);
      expect(await db.keys.findActiveKeyByHash("hash_k1")).toBeUndefined();
      expect(await db.keys.revokeKey("k1", 600)).toBe(0);
      expect(await db.keys.revokeKey("k2", 700)).toBe(1);
      expect(await db.keys.revokeKey("nobody", 700)).toBe(0);

      expect(await db.keys.listKeys()).toEqual([
        { ...k1, revokedAtUnixSecs: 500 },
        k3,
        { ...k2, revokedAtUnixSecs: 700 },
      ]);
      expect(await db.keys.findActiveKeyByHash("hash_K3")).toEqual(k3);
    });

    it("refuses a second key with the same hash", async () => {
      await db.keys.insertKey(key("k1", "oc_aaaaaaa", 100));
      await expect(db.keys.insertKey({ ...key("k2", "oc_bbbbbbb", 100), hash: "hash_k1" })).rejects.toThrow();
      expect(await db.keys.listKeys()).toHaveLength(1);
    });
  });

  describe("migrations", () => {
    async function schemaVersion(): Promise<number> {
      const [row] = await queryRaw(backend, storage, "SELECT version FROM schema_version");
      return Number(row?.version);
    }

    it("reopens a migrated database as it was", async () => {
      const record = makeRecord("persisted", { tags: ["kept"] });
      await db.conversations.upsertConversations([record]);
      await db.keys.insertKey({
        id: "k1",
        name: "k",
        prefix: "oc_1234567",
        hash: "h1",
        createdAtUnixSecs: 1,
        revokedAtUnixSecs: null,
      });
      const version = await schemaVersion();
      expect(version).toBeGreaterThan(0);
      await db.close();

      db = await storage.open();
      expect(await schemaVersion()).toBe(version);
      expect(await db.conversations.countConversations()).toBe(1);
      expect((await db.conversations.getConversation("persisted"))?.json).toBe(record.json);
      expect(await db.keys.findActiveKeyByHash("h1")).toBeDefined();
      expect(await db.conversations.upsertConversations([makeRecord("persisted")])).toEqual(["replaced"]);
    });

    it("lets several nodes open a fresh database at once", async () => {
      const fresh = createTestStorage(backend);
      try {
        const opened = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
        expect(await opened[0]?.conversations.upsertConversations([makeRecord("x")])).toEqual(["created"]);
        for (const other of opened) expect(await other.conversations.countConversations()).toBe(1);
        await Promise.all(opened.map((o) => o.close()));
      } finally {
        await fresh.cleanup();
      }
    });

    it("refuses a database written by a newer version", async () => {
      const version = await schemaVersion();
      await db.close();
      await queryRaw(backend, storage, `UPDATE schema_version SET version = ${version + 1}`);

      const opening = storage.open();
      await expect(opening).rejects.toBeInstanceOf(SchemaTooNewError);
      await expect(opening).rejects.toMatchObject({ found: version + 1, supported: version });
    });
  });
});
