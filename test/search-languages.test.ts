/**
 * Search in every language: the list's `search` and message text search find the same
 * conversations on SQLite and PostgreSQL, case-insensitively for every cased letter, with the
 * Turkish i's and the German ß as docs/compatibility.md says ("Search and case"). The expected
 * ids are the same table for both backends, so a backend that folds differently fails.
 */
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversationRecord } from "../src/domain/conversation-record.js";
import { foldForSearch } from "../src/domain/search-fold.js";
import { postgresMigrations } from "../src/store/postgres/migrations.js";
import { sqliteMigrations } from "../src/store/sqlite/migrations.js";
import { SQLITE_FILE_NAME } from "../src/store/sqlite/sqlite-database.js";
import { BASE_START_TIME, buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage } from "./support/backends.js";
import { listQuery } from "./support/list-query.js";
import { queryTestDatabase } from "./support/postgres-schema.js";
import { putConversations } from "./support/put-conversations.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const texts: Record<string, string[]> = {
  de: ["Ich habe großen Ärger mit der Lieferung.", "Das tut mir leid. Wir prüfen die STRAẞE."],
  fr: ["L'ÉCOLE a appelé au sujet de la facture.", "Très bien, je vérifie le dossier."],
  tr: ["İSTANBUL şubesinden aradım, IRMAK bey.", "Ilık bir gün, İyi günler dilerim."],
  el: ["Η ΟΔΟΣ είναι κλειστή.", "Ευχαριστώ για την ενημέρωση, Σωκράτη."],
  ru: ["ЗДРАВСТВУЙТЕ, у меня ПРОБЛЕМА с заказом.", "Проблема решена, Ёжик."],
  ja: ["注文したテレビが届きません。", "配送状況を確認いたします。"],
  en: ["Plain ASCII about a refund.", "Strasse and ecole are spelled without marks here."],
};

const docs = Object.entries(texts).map(([lang, messages], i) =>
  buildConversation({ id: `conv_${lang}`, startTime: BASE_START_TIME + 100 * i, messages }),
);

/** Query → the conversations (by language) that hold it, on every backend. */
const expected: [string, string[]][] = [
  // German: umlauts and ß in either case.
  ["ärger", ["de"]],
  ["ÄRGER", ["de"]],
  ["GROSSEN", []], // ß is not "ss"
  ["GROẞEN", ["de"]],
  ["straße", ["de"]], // ẞ folds to ß
  ["strasse", ["en"]],
  // French: accented capitals fold; accents are kept.
  ["école", ["fr"]],
  ["École", ["fr"]],
  ["ecole", ["en"]],
  ["VÉRIFIE", ["fr"]],
  // Turkish: I, ı, İ and i are one letter.
  ["istanbul", ["tr"]],
  ["ıstanbul", ["tr"]],
  ["ırmak", ["tr"]],
  ["irmak", ["tr"]],
  ["ILIK", ["tr"]],
  ["iyi", ["tr"]],
  ["ŞUBESİNDEN", ["tr"]],
  // Greek: capitals and the final sigma.
  ["οδος", ["el"]],
  ["ΟΔΟΣ", ["el"]],
  ["σωκράτη", ["el"]],
  ["ΕΥΧΑΡΙΣΤΏ", ["el"]],
  // Russian: Cyrillic capitals, ё kept apart from е.
  ["здравствуйте", ["ru"]],
  ["проблема", ["ru"]],
  ["ЁЖИК", ["ru"]],
  ["ежик", []],
  // Japanese: substrings, no case.
  ["テレビ", ["ja"]],
  ["配送状況", ["ja"]],
  // Several words, all required.
  ["проблема ЗАКАЗОМ", ["ru"]],
  ["école FACTURE", ["fr"]],
];

function languages(ids: string[]): string[] {
  return ids.map((id) => id.replace(/^conv_/, "")).sort();
}

describe.each(BACKENDS)("search in every language on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
    await putConversations(server, docs);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(expected)("list search=%s finds %j", async (query, want) => {
    const response = await server.fetch(
      `/v1/convai/conversations?page_size=100&search=${encodeURIComponent(query)}`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { conversations: { conversation_id: string }[] };
    expect(languages(body.conversations.map((c) => c.conversation_id))).toEqual([...want].sort());
  });

  it.each(expected)("message text search %s finds %j, highlighted as written", async (query, want) => {
    const response = await server.fetch(
      `/v1/convai/conversations/messages/text-search?page_size=50&text_query=${encodeURIComponent(query)}`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      results: {
        conversation_id: string;
        chunk_text: string;
        chunk_highlights: { value: string; is_hit: boolean }[];
      }[];
    };
    expect(languages([...new Set(body.results.map((r) => r.conversation_id))])).toEqual([...want].sort());
    for (const result of body.results) {
      // Highlights are cut from the text as stored, and the hits are the query's words in any case.
      expect(result.chunk_highlights.map((s) => s.value).join("")).toBe(result.chunk_text);
      const hits = result.chunk_highlights.filter((s) => s.is_hit).map((s) => foldForSearch(s.value));
      expect(hits.length).toBeGreaterThan(0);
      const words = query.split(" ").map(foldForSearch);
      for (const hit of hits) expect(words.some((w) => hit.includes(w))).toBe(true);
    }
  });
});

describe("the search-fold migration on an existing SQLite database", () => {
  it("folds the search text a version 4 database stored as written, which search then finds", async () => {
    const storage = createTestStorage("sqlite");
    try {
      // A data dir as version 4 left it: the search text stored as written.
      const db = new BetterSqlite3(path.join(storage.dataDir, SQLITE_FILE_NAME));
      for (const migration of sqliteMigrations.slice(0, 4)) db.exec(String(migration));
      db.exec(
        "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4)",
      );
      const record = buildConversationRecord(docs[0] as never);
      const asWritten = (texts.de ?? []).join("\n");
      db.prepare(
        `INSERT INTO conversations (conversation_id, agent_id, status, start_time, duration, call_successful,
         has_feedback_comment, doc, list_item, sort_key, updated_at)
         VALUES ('conv_de', 'agent', 'done', 1, 1, 'success', 0, ?, ?, 7, 0)`,
      ).run(record.json, record.listItemJson);
      db.prepare("INSERT INTO conversation_text (rowid, body) VALUES (7, ?)").run(asWritten);
      db.close();

      const database = await storage.open();
      try {
        const page = await database.conversations.listConversations(listQuery({ search: "ÄRGER" }));
        const ids = page.items.map(
          (i) => (JSON.parse(i.listItemJson) as { conversation_id: string }).conversation_id,
        );
        expect(ids).toEqual(["conv_de"]);
      } finally {
        await database.close();
      }
    } finally {
      await storage.cleanup();
    }
  });
});

describe.skipIf(!BACKENDS.includes("postgres"))(
  "the search-fold migration on an existing PostgreSQL database",
  () => {
    it("folds the search text a version 5 database stored as written, which search then finds", async () => {
      const storage = createTestStorage("postgres");
      const url = storage.databaseUrl ?? "";
      try {
        const schema = /search_path=(\w+)/.exec(new URL(url).searchParams.get("options") ?? "")?.[1] ?? "";
        await queryTestDatabase(url, `CREATE SCHEMA ${schema}`);
        for (const migration of postgresMigrations.slice(0, 5))
          await queryTestDatabase(url, String(migration));
        await queryTestDatabase(url, "CREATE TABLE schema_version (version INTEGER NOT NULL)");
        await queryTestDatabase(url, "INSERT INTO schema_version (version) VALUES (5)");
        const record = buildConversationRecord(docs[0] as never);
        await queryTestDatabase(
          url,
          `INSERT INTO conversations (conversation_id, agent_id, status, start_time, duration, call_successful,
         has_feedback_comment, doc, list_item, search_text, updated_at)
         VALUES ('conv_de', 'agent', 'done', 1, 1, 'success', false, $1, $2, $3, 0)`,
          [record.json, record.listItemJson, (texts.de ?? []).join("\n")],
        );
        const database = await storage.open();
        try {
          const page = await database.conversations.listConversations(listQuery({ search: "ÄRGER STRAẞE" }));
          const ids = page.items.map(
            (i) => (JSON.parse(i.listItemJson) as { conversation_id: string }).conversation_id,
          );
          expect(ids).toEqual(["conv_de"]);
        } finally {
          await database.close();
        }
      } finally {
        await storage.cleanup();
      }
    });
  },
);
