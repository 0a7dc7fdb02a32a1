import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConversationRecord } from "../../src/domain/conversation.js";
import { buildConversationRecord } from "../../src/domain/conversation-record.js";
import type { ListQuery } from "../../src/domain/list-query.js";
import { postgresMigrations } from "../../src/store/postgres/migrations.js";
import type { Database } from "../../src/store/store.js";
import { buildConversation, type ConversationSpec } from "../fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { listQuery } from "../support/list-query.js";
import { queryTestDatabase } from "../support/postgres-schema.js";
import { putConversation, putConversations } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/**
 * Values longer than a PostgreSQL btree entry may hold (about 2.7 KB) in every field that is
 * indexed for a filter, and writers racing to replace the same rows: both backends must store,
 * filter and replace exactly as they do for ordinary values, never answer 500.
 */

/**
 * `length` ASCII letters that do not compress (a seeded generator): PostgreSQL compresses index
 * entries, so a repeated letter would fit where real values do not.
 */
function noise(seed: string, length: number): string {
  let state = [...seed].reduce((h, ch) => (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0, 2166136261);
  let out = "";
  while (out.length < length) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out += String.fromCharCode(97 + ((state >>> 24) % 26));
  }
  return out;
}

/** A value of `length` ASCII characters: incompressible letters, then a tail that tells it apart. */
function longValue(seed: string, length: number, tail: string): string {
  return `${seed}-${noise(seed, length - seed.length - 1 - tail.length)}${tail}`;
}

/** The long value of one field, and a near miss that shares its first 3 KB and its length. */
function pair(field: string): { hit: string; miss: string } {
  const hit = longValue(field, 5 * 1024, "");
  return { hit, miss: `${hit.slice(0, 3 * 1024)}${noise(`${field}-miss`, 2 * 1024)}` };
}

const AGENT = pair("agent");
const USER = pair("user");
const BRANCH = pair("branch");
const VERSION = pair("version");
const TOOL = pair("tool");
const TAG = pair("tag");
const TERMINATION = pair("termination");
const DATA = pair("data");
const DYNVAR = pair("dynvar");
/** A data-collection id and a dynamic-variable name are indexed too. */
const DATA_KEY = longValue("field", 4 * 1024, "_k");
const DYNVAR_KEY = longValue("var", 4 * 1024, "_k");

function longSpec(id: string, side: "hit" | "miss"): ConversationSpec {
  return {
    id,
    agentId: AGENT[side],
    userId: USER[side],
    branchId: BRANCH[side],
    versionId: VERSION[side],
    terminationReason: TERMINATION[side],
    tools: [{ name: TOOL[side] }],
    tagIds: [TAG[side]],
    dataCollection: { [DATA_KEY]: DATA[side] },
    dynamicVariables: { [DYNVAR_KEY]: DYNVAR[side] },
  };
}

/** Every filter that reads an indexed long value, for the value of one side. */
function filtersFor(side: "hit" | "miss"): [string, Partial<ListQuery>][] {
  return [
    ["agent_id", { agentId: AGENT[side] }],
    ["user_id", { userId: USER[side] }],
    ["branch_id", { branchId: BRANCH[side] }],
    ["version_id", { versionId: VERSION[side] }],
    ["tool_names", { anyOf: [{ kind: "tool", values: [TOOL[side]] }] }],
    ["tag_ids", { anyOf: [{ kind: "tag", values: [TAG[side], "tag_other"] }] }],
    ["termination_reasons", { anyOf: [{ kind: "termination_reason", values: [TERMINATION[side]] }] }],
    ["data_collection eq", { dataCollection: [{ key: DATA_KEY, op: "eq", values: [DATA[side]] }] }],
    ["data_collection in", { dataCollection: [{ key: DATA_KEY, op: "in", values: ["a", DATA[side]] }] }],
    ["dynamic_variables eq", { dynamicVariables: [{ key: DYNVAR_KEY, op: "eq", values: [DYNVAR[side]] }] }],
  ];
}

describe.each(BACKENDS)("long indexed values in the store on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  const record = (id: string, side: "hit" | "miss"): ConversationRecord =>
    buildConversationRecord(buildConversation(longSpec(id, side)));

  beforeAll(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    expect(await db.conversations.upsertConversations([record("long_hit", "hit")])).toEqual(["created"]);
    expect(await db.conversations.putConversation(record("long_miss", "miss"))).toMatchObject({
      outcome: "created",
    });
    // A replace rewrites every index entry of the conversation.
    expect(await db.conversations.upsertConversations([record("long_hit", "hit")])).toEqual(["replaced"]);
  });
  afterAll(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  const ids = async (overrides: Partial<ListQuery>) =>
    (await db.conversations.listConversations(listQuery(overrides))).items.map(
      (item) => (JSON.parse(item.listItemJson) as { conversation_id: string }).conversation_id,
    );

  for (const [name, filter] of filtersFor("hit")) {
    it(`finds exactly the conversation whose 5 KB ${name} matches`, async () => {
      expect(await ids(filter)).toEqual(["long_hit"]);
    });
  }
  for (const [name, filter] of filtersFor("miss")) {
    it(`tells a near miss of ${name} apart (same first 3 KB)`, async () => {
      expect(await ids(filter)).toEqual(["long_miss"]);
    });
  }

  it("matches a long value's neq, set and not-set conditions exactly", async () => {
    expect(await ids({ dataCollection: [{ key: DATA_KEY, op: "neq", values: [DATA.hit] }] })).toEqual([
      "long_miss",
    ]);
    expect(await ids({ dynamicVariables: [{ key: DYNVAR_KEY, op: "neq", values: [""] }] })).toEqual([
      "long_miss",
      "long_hit",
    ]);
    expect(await ids({ dynamicVariables: [{ key: `${DYNVAR_KEY}x`, op: "eq", values: [""] }] })).toEqual([
      "long_miss",
      "long_hit",
    ]);
  });

  it("deletes a conversation with long values and its index rows", async () => {
    await db.conversations.putConversation(record("long_gone", "hit"));
    expect(await ids({ agentId: AGENT.hit })).toEqual(["long_hit", "long_gone"].sort().reverse());
    expect(await db.conversations.deleteConversation("long_gone")).toEqual({ audio: null });
    expect(await ids({ agentId: AGENT.hit })).toEqual(["long_hit"]);
  });
});

describe.each(BACKENDS)("long indexed values through the API on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("stores a document with 5 KB values in every indexed field (201), then replaces it (200)", async () => {
    const doc = buildConversation(longSpec("api_long", "hit"));
    const created = await putConversation(server, doc);
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await putConversation(server, doc)).status).toBe(200);
    const got = await server.fetch("/v1/convai/conversations/api_long");
    expect(got.status).toBe(200);
    expect(((await got.json()) as { agent_id: string }).agent_id).toBe(AGENT.hit);
  });

  it("filters on the longest values a filter accepts, next to an id as long as ids go", async () => {
    // 512 characters of four UTF-8 bytes each: a filter's longest value, in bytes. With an id as
    // long, the agent and user entries of the list indexes are over 4 KB.
    // CJK Extension B: four UTF-8 bytes each, spread widely enough not to compress.
    const wide = (seed: string, last: string) => {
      const letters = [...noise(seed, 1022)].map((ch) => (ch.codePointAt(0) ?? 97) - 97);
      let out = "";
      for (let k = 0; k < letters.length; k += 2) {
        out += String.fromCodePoint(0x20000 + ((letters[k] ?? 0) * 26 + (letters[k + 1] ?? 0)) * 61);
      }
      return out + last;
    };
    const id = wide("id", "i");
    const near = wide("id", "j");
    const hit = wide("value", "a");
    const miss = wide("value", "b");
    await putConversations(server, [
      buildConversation({ id, agentId: hit, userId: hit, tools: [{ name: hit }], tagIds: [hit] }),
      buildConversation({ id: near, agentId: miss, userId: miss, tools: [{ name: miss }], tagIds: [miss] }),
    ]);
    const list = server.client.conversationalAi.conversations;
    const idsOf = async (request: Parameters<typeof list.list>[0]) =>
      ((await list.list(request)).conversations ?? []).map((c) => c.conversationId);
    for (const [value, expected] of [
      [hit, id],
      [miss, near],
    ] as const) {
      expect(await idsOf({ agentId: value })).toEqual([expected]);
      expect(await idsOf({ userId: value })).toEqual([expected]);
      expect(await idsOf({ toolNames: value })).toEqual([expected]);
      expect(await idsOf({ tagIds: value })).toEqual([expected]);
    }

    // An agent's topics are keyed by both ids: as long as ids go, together over 4 KB.
    const topics = await server.fetch(`/ingest/v1/agents/${encodeURIComponent(hit)}/topics`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        { topic_id: id, label: "one", description: "wide" },
        { topic_id: near, label: "two", description: "wide" },
      ]),
    });
    expect(topics.status, await topics.clone().text()).toBe(200);
    const report = await server.fetch(`/v1/convai/agents/${encodeURIComponent(hit)}/topics`);
    expect(report.status).toBe(200);
    const counted = ((await report.json()) as { topics: { topic_id: string; conversation_count: number }[] })
      .topics;
    expect(counted.map((t) => t.topic_id).sort()).toEqual([id, near].sort());
  });
});

describe.each(BACKENDS)("concurrent replacements on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(server, [buildConversation({ id: "raced" })]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const put = (path: string, body: unknown) =>
    server.fetch(path, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  /** Four writers, twenty rounds: every answer is 200 and what remains is one writer's whole set. */
  async function race(path: string, bodyOf: (writer: number) => unknown[], read: () => Promise<unknown>) {
    const statuses = new Map<number, number>();
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all([0, 1, 2, 3].map((w) => put(path, bodyOf(w))));
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      const kept = await read();
      expect([0, 1, 2, 3].map((w) => bodyOf(w).length)).toContain((kept as unknown[]).length);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 80 });
  }

  it("PUT topics of one agent from four writers at once: last writer wins, never a 500", async () => {
    const topics = (w: number) =>
      Array.from({ length: 3 + w }, (_, i) => ({
        topic_id: `t${i}`,
        label: `writer ${w} topic ${i}`,
        description: "raced",
      }));
    await race("/ingest/v1/agents/agent_raced/topics", topics, async () => {
      const got = await server.fetch("/v1/convai/agents/agent_raced/topics?page_size=100");
      expect(got.status).toBe(200);
      const body = (await got.json()) as { topics: { label: string }[] };
      // One writer's whole set: every label names the same writer.
      expect(new Set(body.topics.map((t) => t.label.split(" topic")[0])).size).toBe(1);
      return body.topics;
    });
  });

  it("PUT SIP messages of one conversation from four writers at once: last writer wins, never a 500", async () => {
    const messages = (w: number) =>
      Array.from({ length: 3 + w }, (_, i) => ({
        call_id: `writer-${w}`,
        phone_numbers: [],
        local_address: "10.0.0.1:5060",
        remote_address: "203.0.113.7:5060",
        transport: "udp",
        raw_message: `message ${i}`,
        error_message: "",
        direction: "in",
        created_at_unix_micro: 1_700_000_000_000_000 + i,
      }));
    await race("/ingest/v1/conversations/raced/sip-messages", messages, async () => {
      const got = await server.fetch("/v1/convai/conversations/raced/sip-messages?page_size=100");
      expect(got.status).toBe(200);
      const list = ((await got.json()) as { sip_messages: { call_id: string }[] }).sip_messages;
      expect(new Set(list.map((m) => m.call_id)).size).toBe(1);
      return list;
    });
  });
});

describe.skipIf(!BACKENDS.includes("postgres"))(
  "the long-values migration on an existing PostgreSQL database",
  () => {
    it("re-indexes a version 4 database with its conversations, which the filters then find", async () => {
      const storage = createTestStorage("postgres");
      const url = storage.databaseUrl ?? "";
      try {
        const schema = /search_path=(\w+)/.exec(new URL(url).searchParams.get("options") ?? "")?.[1] ?? "";
        // Builds the schema as version 4 left it, with one conversation and its facets.
        await queryTestDatabase(url, `CREATE SCHEMA ${schema}`);
        for (const sql of postgresMigrations.slice(0, 4)) await queryTestDatabase(url, String(sql));
        await queryTestDatabase(url, "CREATE TABLE schema_version (version INTEGER NOT NULL)");
        await queryTestDatabase(url, "INSERT INTO schema_version (version) VALUES (4)");
        const record = buildConversationRecord(
          buildConversation({ id: "old", agentId: "agent_old", tagIds: ["t1"] }),
        );
        await queryTestDatabase(
          url,
          `INSERT INTO conversations (conversation_id, agent_id, status, start_time, duration, call_successful,
           has_feedback_comment, doc, list_item, search_text, updated_at)
         VALUES ('old', 'agent_old', 'done', 1, 1, 'success', false, $1, $2, '', 0)`,
          [record.json, record.listItemJson],
        );
        await queryTestDatabase(
          url,
          "INSERT INTO facets (seq, kind, key, value, num) SELECT seq, 'tag', '', 't1', NULL FROM conversations",
        );

        const db = await storage.open();
        try {
          const [row] = await queryTestDatabase(url, "SELECT version FROM schema_version");
          expect(row?.version).toBe(postgresMigrations.length);
          const ids = async (overrides: Partial<ListQuery>) =>
            (await db.conversations.listConversations(listQuery(overrides))).items.length;
          expect(await ids({ agentId: "agent_old" })).toBe(1);
          expect(await ids({ anyOf: [{ kind: "tag", values: ["t1"] }] })).toBe(1);
          expect(await ids({ anyOf: [{ kind: "tag", values: ["t2"] }] })).toBe(0);
          // And the migrated schema takes what version 4 refused.
          const long = buildConversationRecord(buildConversation(longSpec("long_after", "hit")));
          expect(await db.conversations.upsertConversations([long])).toEqual(["created"]);
          expect(await ids({ agentId: AGENT.hit })).toBe(1);
        } finally {
          await db.close();
        }
      } finally {
        await storage.cleanup();
      }
    });
  },
);
