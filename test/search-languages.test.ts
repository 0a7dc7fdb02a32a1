/**
 * Search in every language: the list's `search` and message text search find the same
 * conversations on SQLite and PostgreSQL, case-insensitively for every cased letter, with the
 * Turkish i's and the German ß as docs/compatibility.md says ("Search and case"). The expected
 * ids are the same table for both backends, so a backend that folds differently fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldForSearch } from "../src/domain/search-fold.js";
import { BASE_START_TIME, buildConversation } from "./fixtures/conversations.js";
import { BACKENDS } from "./support/backends.js";
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
