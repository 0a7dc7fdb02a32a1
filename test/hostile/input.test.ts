/**
 * Input that must be refused with a 422 (or kept exactly as sent), never a 500: non-finite
 * numbers in query strings and documents, NUL in ids, documents nested too deep, and `__proto__`
 * as an ordinary key. Every document path is covered: the ingest PUT, an import line and a
 * signed webhook (sync goes through the same `checkIncomingDocument`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../../src/conversations/document-validator.js";
import { checkJsonValue, MAX_JSON_DEPTH, parseJson } from "../../src/conversations/parse-json.js";
import type { ValidationIssue } from "../../src/domain/errors.js";
import { type BadLine, type ImportSummary, importNdjson } from "../../src/ingest/ndjson-importer.js";
import { openNdjsonFile } from "../../src/ingest/ndjson-source.js";
import { signWebhookBody } from "../../src/ingest/webhook-signature.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { putConversation } from "../support/put-conversations.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SECRET = "wsec_hostile_input_0123";
const WEBHOOK = "/ingest/v1/webhooks/elevenlabs";
const NO_AUDIO_TAIL =
  ',"has_audio":false,"has_user_audio":false,"has_response_audio":false,"has_auxiliary_audio":false}';
const NON_FINITE = ["Infinity", "-Infinity", "+Infinity", "1e400", "-1e400"];

/** Every numeric query parameter of every route (path, parameter); `{id}` is a stored conversation. */
const NUMERIC_QUERY_PARAMETERS: [string, string][] = [
  ["/v1/convai/conversations", "page_size"],
  ["/v1/convai/conversations", "call_start_before_unix"],
  ["/v1/convai/conversations", "call_start_after_unix"],
  ["/v1/convai/conversations", "call_duration_min_secs"],
  ["/v1/convai/conversations", "call_duration_max_secs"],
  ["/v1/convai/conversations", "rating_min"],
  ["/v1/convai/conversations", "rating_max"],
  ["/v1/convai/conversations/messages/text-search?text_query=hello", "page_size"],
  ["/v1/convai/conversations/messages/text-search?text_query=hello", "rating_min"],
  ["/v1/convai/conversations/messages/text-search?text_query=hello", "call_start_after_unix"],
  ["/v1/convai/conversations/messages/smart-search?text_query=hello", "page_size"],
  ["/v1/convai/conversations/{id}/summary", "max_messages"],
  ["/v1/convai/conversations/{id}/sip-messages", "page_size"],
  ["/v1/convai/tags", "page_size"],
  ["/v1/convai/agents/agent_hostile/topics", "page_size"],
  ["/v1/convai/agents/agent_hostile/topics", "from_unix_secs"],
  ["/v1/convai/agents/agent_hostile/topics", "to_unix_secs"],
];

type Detail = { detail: ValidationIssue[] };

/** `value` inside `levels` nested arrays: `[[[value]]]` for 3. */
function nestedArrays(levels: number, value = "0"): string {
  return `${"[".repeat(levels)}${value}${"]".repeat(levels)}`;
}

/** A document's JSON text with `member` (raw JSON text, `"key":value`) as its first key. */
function withFirstMember(doc: Record<string, unknown>, member: string): string {
  return `{${member},${JSON.stringify(doc).slice(1)}`;
}

/** A post_call_transcription webhook body carrying `dataText` as its `data`, byte for byte. */
function transcriptionWebhook(dataText: string): string {
  return `{"type":"post_call_transcription","event_timestamp":1739537297,"data":${dataText}}`;
}

describe.each(BACKENDS)("hostile input on %s", (backend) => {
  let server: TestServer;
  let work: string;
  let importCount = 0;

  beforeAll(async () => {
    server = await startTestServer(backend, { OPENCONVAI_WEBHOOK_SECRETS: SECRET });
    work = mkdtempSync(path.join(tmpdir(), "openconvai-hostile-"));
    const base = buildConversation({ id: "conv_base", agentId: "agent_hostile", messages: ["hello"] });
    expect((await putConversation(server, base)).status).toBe(201);
  });
  afterAll(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
    await server?.stop();
  });

  /** PUTs raw JSON text. */
  function putText(conversationId: string, text: string): Promise<Response> {
    return server.fetch(`/ingest/v1/conversations/${encodeURIComponent(conversationId)}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: text,
    });
  }

  /** Imports NDJSON text through the server's own services, as `openconvai import` does. */
  async function importText(text: string): Promise<{ summary: ImportSummary; bad: BadLine[] }> {
    const file = path.join(work, `import-${importCount++}.ndjson`);
    writeFileSync(file, text);
    const bad: BadLine[] = [];
    const summary = await importNdjson(await openNdjsonFile(file), server.server.services.conversations, {
      maxLineBytes: 16 << 20,
      onBadLine: (line) => bad.push(line),
    });
    return { summary, bad };
  }

  /** Posts a signed webhook body. */
  async function postWebhook(body: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const signature = signWebhookBody(body, SECRET, Math.floor(Date.now() / 1000));
    const response = await fetch(`${server.url}${WEBHOOK}`, {
      method: "POST",
      headers: { "content-type": "application/json", "ElevenLabs-Signature": signature },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  const stored = (id: string) => server.server.services.db.conversations.getConversation(id);

  describe("finding 7: non-finite numbers in query strings", () => {
    it("refuses Infinity, -Infinity and 1e400 in every numeric query parameter with a 422 naming it", async () => {
      for (const [route, parameter] of NUMERIC_QUERY_PARAMETERS) {
        for (const value of NON_FINITE) {
          const url = route.replace("{id}", "conv_base");
          const sep = url.includes("?") ? "&" : "?";
          const response = await server.fetch(`${url}${sep}${parameter}=${encodeURIComponent(value)}`);
          const what = `${url} ${parameter}=${value}`;
          expect(response.status, what).toBe(422);
          const body = (await response.json()) as Detail;
          expect(body.detail, what).toContainEqual({
            loc: ["query", parameter],
            msg: "Input should be a finite number",
            type: "finite_number",
          });
        }
      }
    });

    it("still accepts finite numbers in the same parameters", async () => {
      const list = await server.fetch(
        "/v1/convai/conversations?page_size=1e1&rating_min=1&call_start_after_unix=-5",
      );
      expect(list.status).toBe(200);
      const tags = await server.fetch("/v1/convai/tags?page_size=100");
      expect(tags.status).toBe(200);
    });
  });

  describe("finding 8: non-finite numbers in documents", () => {
    const doc = buildConversation({ id: "conv_inf", agentId: "agent_inf" });
    const text = JSON.stringify(doc);
    const cases: [string, string, (string | number)[]][] = [
      [
        "start_time_unix_secs",
        text.replace(/"start_time_unix_secs":\d+/, '"start_time_unix_secs":1e400'),
        ["metadata", "start_time_unix_secs"],
      ],
      [
        "call_duration_secs",
        text.replace(/"call_duration_secs":\d+/, '"call_duration_secs":-1e400'),
        ["metadata", "call_duration_secs"],
      ],
      [
        "time_in_call_secs",
        text.replace(/"time_in_call_secs":\d+/, '"time_in_call_secs":1e999'),
        ["transcript", 0, "time_in_call_secs"],
      ],
      ["an unknown key", withFirstMember(doc, '"odd":{"list":[1,2,-1e400]}'), ["odd", "list", 2]],
    ];

    it("refuses them on the ingest PUT, with a loc pointing at the number, writing nothing", async () => {
      for (const [name, sent, loc] of cases) {
        expect(sent, name).not.toBe(text);
        const response = await putText("conv_inf", sent);
        expect(response.status, name).toBe(422);
        expect(((await response.json()) as Detail).detail, name).toContainEqual({
          loc: ["body", ...loc],
          msg: "Input should be a finite number",
          type: "finite_number",
        });
      }
      expect(await stored("conv_inf")).toBeUndefined();
    });

    it("refuses them in import lines, by line and location, and imports the good lines", async () => {
      const good = JSON.stringify(buildConversation({ id: "conv_inf_import_ok" }));
      const { summary, bad } = await importText(`${cases.map(([, sent]) => sent).join("\n")}\n${good}\n`);
      expect(summary).toMatchObject({ created: 1, bad: cases.length });
      for (const [i, [name, , loc]] of cases.entries()) {
        expect(bad[i]?.issues, name).toContainEqual({
          loc: ["line", i + 1, ...loc],
          msg: "Input should be a finite number",
          type: "finite_number",
        });
      }
      expect(await stored("conv_inf")).toBeUndefined();
    });

    it("keeps them as dead letters when a signed webhook carries them, storing nothing", async () => {
      for (const [name, sent, loc] of cases) {
        const result = await postWebhook(transcriptionWebhook(sent));
        expect(result.status, name).toBe(200);
        expect(result.json.status, name).toBe("dead_letter");
        expect(String(result.json.reason), name).toContain(["data", ...loc].join("."));
      }
      expect(await stored("conv_inf")).toBeUndefined();
    });

    it("refuses them in a document object handed over directly (as sync does)", () => {
      const metadata = {
        ...(doc.metadata as Record<string, unknown>),
        call_duration_secs: Number.POSITIVE_INFINITY,
      };
      const checked = checkIncomingDocument({ ...doc, metadata }, undefined, ["sync"]);
      expect(checked.ok).toBe(false);
      expect(checked.ok ? [] : checked.issues).toContainEqual({
        loc: ["sync", "metadata", "call_duration_secs"],
        msg: "Input should be a finite number",
        type: "finite_number",
      });
      const nan = checkIncomingDocument({ ...doc, extra: [Number.NaN] }, undefined);
      expect(nan.ok ? [] : nan.issues).toContainEqual({
        loc: ["body", "extra", 0],
        msg: "Input should be a finite number",
        type: "finite_number",
      });
    });
  });

  describe("finding 10: NUL in ids", () => {
    const pathIssue = (name: string) => ({
      loc: ["path", name],
      msg: "String should not contain the NUL character (U+0000): remove it from the id",
      type: "string_pattern_mismatch",
    });

    it("refuses NUL in a path id with a 422, so nul%00id and nul%EF%BF%BDid stay apart", async () => {
      const doc = buildConversation({ id: "placeholder", agentId: "agent_nul" });
      const nul = await putText("nul\u0000id", JSON.stringify(doc));
      expect(nul.status).toBe(422);
      expect(((await nul.json()) as Detail).detail).toContainEqual(pathIssue("conversation_id"));

      const replacement = buildConversation({ id: "nul\uFFFDid", agentId: "agent_replacement" });
      expect((await putConversation(server, replacement)).status).toBe(201);
      const get = await server.fetch("/v1/convai/conversations/nul%00id");
      expect(get.status).toBe(422);
      expect(((await get.json()) as Detail).detail).toContainEqual(pathIssue("conversation_id"));
      const kept = await server.fetch("/v1/convai/conversations/nul%EF%BF%BDid");
      expect(((await kept.json()) as { agent_id: string }).agent_id).toBe("agent_replacement");
    });

    it("refuses NUL in every other path id", async () => {
      const cases: [string, string, string][] = [
        ["GET", "/v1/convai/conversations/nul%00id/audio", "conversation_id"],
        ["DELETE", "/v1/convai/conversations/nul%00id", "conversation_id"],
        ["GET", "/v1/convai/conversations/nul%00id/sip-messages", "conversation_id"],
        ["GET", "/v1/convai/tags/nul%00tag", "tag_id"],
        ["GET", "/v1/convai/agents/nul%00agent/topics", "agent_id"],
        ["DELETE", "/v1/convai/conversations/conv_base/tags/nul%00tag", "tag_id"],
      ];
      for (const [method, url, name] of cases) {
        const response = await server.fetch(url, { method });
        expect(response.status, `${method} ${url}`).toBe(422);
        expect(((await response.json()) as Detail).detail, url).toContainEqual(pathIssue(name));
      }
    });

    it("refuses NUL in id filters of the list and of search", async () => {
      for (const url of [
        "/v1/convai/conversations?agent_id=nul%00agent",
        "/v1/convai/conversations?tag_ids=nul%00tag",
        "/v1/convai/conversations/messages/smart-search?text_query=hello&agent_id=nul%00agent",
      ]) {
        const response = await server.fetch(url);
        expect(response.status, url).toBe(422);
        const issues = ((await response.json()) as Detail).detail;
        expect(
          issues.map((i) => i.type),
          url,
        ).toContain("string_pattern_mismatch");
      }
    });

    // A lone surrogate: JSON can spell one ("\ud800"), but no backend can store it as text as it is.
    it.each([
      ["NUL", "nul\u0000doc", "nul\uFFFDdoc"],
      ["a lone UTF-16 surrogate", "lone\ud800doc", "lone\uFFFDdoc"],
    ])(
      "refuses %s in a document's conversation_id, on import and through a webhook",
      async (_what, id, replaced) => {
        const doc = buildConversation({ id });
        const { summary, bad } = await importText(`${JSON.stringify(doc)}\n`);
        expect(summary).toMatchObject({ created: 0, replaced: 0, bad: 1 });
        expect(bad[0]?.issues.map((i) => [i.loc, i.type])).toContainEqual([
          ["line", 1, "conversation_id"],
          "string_pattern_mismatch",
        ]);

        const result = await postWebhook(transcriptionWebhook(JSON.stringify(doc)));
        expect(result.status).toBe(200);
        expect(result.json.status).toBe("dead_letter");
        expect(await stored(id)).toBeUndefined();
        expect(await stored(replaced)).toBeUndefined();
      },
    );
  });

  describe("finding 11: documents nested too deep", () => {
    const doc = buildConversation({ id: "conv_deep" });
    const deep = (levels: number) => withFirstMember(doc, `"deep":${nestedArrays(levels)}`);
    const tooDeep = (issues: ValidationIssue[], prefix: (string | number)[]) =>
      issues.find((i) => i.type === "too_deep" && prefix.every((p, n) => i.loc[n] === p));

    it("refuses 5,000 and 100,000 levels on the ingest PUT with a 422, writing nothing", async () => {
      for (const levels of [5_000, 100_000]) {
        const response = await putText("conv_deep", deep(levels));
        expect(response.status, String(levels)).toBe(422);
        const issue = tooDeep(((await response.json()) as Detail).detail, ["body", "deep"]);
        expect(issue?.msg).toContain(`${MAX_JSON_DEPTH} levels`);
      }
      expect(await stored("conv_deep")).toBeUndefined();
    });

    it(`accepts a document nested exactly ${MAX_JSON_DEPTH} levels deep, and refuses one level more`, async () => {
      // The document is level 1, so its key holds MAX_JSON_DEPTH - 1 arrays.
      const atLimit = await putText("conv_deep_ok", deep(MAX_JSON_DEPTH - 1));
      expect(atLimit.status).toBe(201);
      const over = await putText("conv_deep_over", deep(MAX_JSON_DEPTH));
      expect(over.status).toBe(422);
      expect(tooDeep(((await over.json()) as Detail).detail, ["body", "deep"])).toBeDefined();
    });

    it("refuses it in an import line and in a signed webhook", async () => {
      const good = JSON.stringify(buildConversation({ id: "conv_deep_import_ok" }));
      const { summary, bad } = await importText(`${deep(5_000)}\n${good}\n`);
      expect(summary).toMatchObject({ created: 1, bad: 1 });
      expect(tooDeep(bad[0]?.issues ?? [], ["line", 1, "deep"])).toBeDefined();

      const result = await postWebhook(transcriptionWebhook(deep(5_000)));
      expect(result.status).toBe(200);
      expect(result.json.status).toBe("dead_letter");
      expect(await stored("conv_deep")).toBeUndefined();
    });
  });

  describe("findings 8 and 11 on every other JSON body", () => {
    const sipMessage = (extra: string) =>
      `[{${extra}"call_id":"c","phone_numbers":[],"local_address":"l","remote_address":"r","transport":"udp",` +
      `"raw_message":"INVITE","error_message":"","direction":"inbound","created_at_unix_micro":1}]`;
    const putSip = (body: string) =>
      server.fetch("/ingest/v1/conversations/conv_base/sip-messages", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body,
      });

    it("refuses a non-finite number or deep nesting in an unknown key of a SIP message, and keeps the log", async () => {
      expect((await putSip(sipMessage('"kept":{"n":1},'))).status).toBe(200);
      const before = await (await server.fetch("/v1/convai/conversations/conv_base/sip-messages")).text();
      const infinite = await putSip(sipMessage('"odd":[1e400],'));
      expect(infinite.status).toBe(422);
      expect(((await infinite.json()) as Detail).detail).toEqual([
        { loc: ["body", 0, "odd", 0], msg: "Input should be a finite number", type: "finite_number" },
      ]);
      const deep = await putSip(sipMessage(`"odd":${nestedArrays(5_000)},`));
      expect(deep.status).toBe(422);
      expect(((await deep.json()) as Detail).detail.map((i) => i.type)).toEqual(["too_deep"]);
      const after = await (await server.fetch("/v1/convai/conversations/conv_base/sip-messages")).text();
      expect(after).toBe(before);
    });

    it("refuses 1e400 in a feedback rating as a non-finite number", async () => {
      const response = await server.fetch("/v1/convai/conversations/conv_base/feedback", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"rating":1e400}',
      });
      expect(response.status).toBe(422);
      expect(((await response.json()) as Detail).detail).toEqual([
        { loc: ["body", "rating"], msg: "Input should be a finite number", type: "finite_number" },
      ]);
    });
  });

  describe("finding 17: __proto__ is an ordinary key", () => {
    const PROTO = '"__proto__":{"user_id":"injected_user"}';
    const listByUser = async () => {
      const response = await server.fetch("/v1/convai/conversations?user_id=injected_user");
      expect(response.status).toBe(200);
      return ((await response.json()) as { conversations: { conversation_id: string }[] }).conversations;
    };
    /** GET serves what was sent byte for byte, with the server's `has_*` keys appended. */
    const expectServedAsSent = async (id: string, sent: string) => {
      const response = await server.fetch(`/v1/convai/conversations/${id}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(`${sent.slice(0, -1)}${NO_AUDIO_TAIL}`);
    };

    it("keeps it through the ingest PUT, and indexes nothing from it", async () => {
      const sent = withFirstMember(buildConversation({ id: "conv_proto_put" }), PROTO);
      const response = await putText("conv_proto_put", sent);
      expect(response.status).toBe(201);
      expect(await response.text()).toBe(`${sent.slice(0, -1)}${NO_AUDIO_TAIL}`);
      await expectServedAsSent("conv_proto_put", sent);
      expect(await listByUser()).toEqual([]);
    });

    it("keeps it through an import line", async () => {
      const sent = withFirstMember(buildConversation({ id: "conv_proto_import" }), PROTO);
      const { summary } = await importText(`${sent}\n`);
      expect(summary).toMatchObject({ created: 1, bad: 0 });
      await expectServedAsSent("conv_proto_import", sent);
      expect(await listByUser()).toEqual([]);
    });

    it("keeps it through a signed webhook", async () => {
      const sent = withFirstMember(buildConversation({ id: "conv_proto_webhook" }), PROTO);
      const result = await postWebhook(transcriptionWebhook(sent));
      expect(result.json.status).toBe("stored");
      await expectServedAsSent("conv_proto_webhook", sent);
      expect(await listByUser()).toEqual([]);
    });

    it("keeps it through a feedback change, and still indexes nothing from it", async () => {
      const feedback = await server.fetch("/v1/convai/conversations/conv_proto_put/feedback", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ feedback: "like" }),
      });
      expect(feedback.status).toBe(200);
      const text = await (await server.fetch("/v1/convai/conversations/conv_proto_put")).text();
      expect(text.startsWith(`{${PROTO},`)).toBe(true);
      expect(await listByUser()).toEqual([]);
    });

    it("keeps it in nested objects, and the list's projections show it", async () => {
      const doc = buildConversation({
        id: "conv_proto_nested",
        agentId: "agent_proto_nested",
        evaluations: { goal: "success" },
        dataCollection: { city: "Paris" },
      });
      const sent = JSON.stringify(doc)
        .replace(
          '"evaluation_criteria_results":{',
          '"evaluation_criteria_results":{"__proto__":{"criteria_id":"__proto__","result":"failure","rationale":"r"},',
        )
        .replace(
          '"data_collection_results":{',
          '"data_collection_results":{"__proto__":{"data_collection_id":"__proto__","value":"hidden","rationale":"r"},',
        );
      expect((await putText("conv_proto_nested", sent)).status).toBe(201);
      await expectServedAsSent("conv_proto_nested", sent);
      const list = await server.fetch(
        "/v1/convai/conversations?agent_id=agent_proto_nested&evaluation_criteria_ids=__proto__" +
          "&evaluation_criteria_ids=toString&data_collection_ids=__proto__&data_collection_ids=constructor",
      );
      expect(list.status).toBe(200);
      const text = await list.text();
      expect(text).toContain('"evaluation_criteria_results":{"__proto__":{"result":"failure"}}');
      expect(text).toContain('"data_collection_results":{"__proto__":"hidden"}');
    });
  });
});

describe("checkJsonValue", () => {
  it("checks any depth without recursing, and locates the first level that is too deep", () => {
    const value = JSON.parse(`{"a":${nestedArrays(1_000_000)}}`) as unknown;
    const issues = checkJsonValue(value, ["body"]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.type).toBe("too_deep");
    expect(issues[0]?.loc).toEqual(["body", "a", ...Array<number>(MAX_JSON_DEPTH - 1).fill(0)]);
  });

  it("reports non-finite numbers in document order, `__proto__` keys included", () => {
    const value = JSON.parse('{"__proto__":{"x":1e400},"b":[1,-1e400,{"c":1e999}],"d":2}') as unknown;
    expect(checkJsonValue(value, ["line", 3]).map((i) => i.loc)).toEqual([
      ["line", 3, "__proto__", "x"],
      ["line", 3, "b", 1],
      ["line", 3, "b", 2, "c"],
    ]);
    expect(checkJsonValue(JSON.parse('{"a":[1,2.5,-1.7e308,{"b":null}]}'), ["body"])).toEqual([]);
  });

  it("parses __proto__ as an own key, and ignores a leading byte order mark", () => {
    const value = parseJson('\uFEFF{"__proto__":{"user_id":"x"}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value.user_id).toBeUndefined();
  });
});
