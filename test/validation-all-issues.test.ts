import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ISSUES } from "../src/conversations/validation-issues.js";
import type { ValidationIssue } from "../src/domain/errors.js";
import { signWebhookBody } from "../src/ingest/webhook-signature.js";
import { buildRichConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage } from "./support/backends.js";
import { putConversation } from "./support/put-conversations.js";
import { runCli } from "./support/run-cli.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const SECRET = "wsec_validation_0123456789";

/** A document with four distinct problems, and where each is (relative to the document). */
function documentWithFourProblems(id: string): {
  doc: Record<string, unknown>;
  problems: (string | number)[][];
} {
  const doc = buildRichConversation(id);
  delete doc.agent_id;
  const transcript = doc.transcript as Record<string, unknown>[];
  (transcript[0] as Record<string, unknown>).role = 5;
  (transcript[1] as Record<string, unknown>).message = 42;
  (doc.metadata as Record<string, unknown>).call_duration_secs = "long";
  return {
    doc,
    problems: [
      ["agent_id"],
      ["transcript", 0, "role"],
      ["transcript", 1, "message"],
      ["metadata", "call_duration_secs"],
    ],
  };
}

/** A document with one wrong `role` in each of `turns` turns. */
function documentWithManyProblems(id: string, turns: number): Record<string, unknown> {
  const doc = buildRichConversation(id);
  doc.transcript = Array.from({ length: turns }, (_, i) => ({
    role: 5,
    message: `turn ${i}`,
    time_in_call_secs: i,
  }));
  return doc;
}

const sortedLocs = (locs: (string | number)[][]) => locs.map((l) => JSON.stringify(l)).sort();

describe.each(BACKENDS)("every validation issue of a document is listed (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { OPENCONVAI_WEBHOOK_SECRETS: SECRET });
  });
  afterAll(async () => server?.stop());

  it("answers a PUT with four problems with four issues, each at its location", async () => {
    const { doc, problems } = documentWithFourProblems("conv_four_problems");
    const response = await putConversation(server, doc);
    expect(response.status).toBe(422);
    const { detail } = (await response.json()) as { detail: ValidationIssue[] };
    expect(sortedLocs(detail.map((i) => i.loc))).toEqual(sortedLocs(problems.map((p) => ["body", ...p])));
    const byLoc = new Map(detail.map((i) => [JSON.stringify(i.loc), i]));
    expect(byLoc.get(JSON.stringify(["body", "agent_id"]))).toMatchObject({
      type: "missing",
      msg: "Field required",
    });
    expect(byLoc.get(JSON.stringify(["body", "transcript", 0, "role"]))).toMatchObject({
      type: "string_type",
    });
    expect(byLoc.get(JSON.stringify(["body", "transcript", 1, "message"]))).toMatchObject({
      type: "string_type",
    });
    expect(byLoc.get(JSON.stringify(["body", "metadata", "call_duration_secs"]))).toMatchObject({
      type: "float_type",
    });
    expect(
      await server.server.services.db.conversations.getConversation("conv_four_problems"),
    ).toBeUndefined();
  });

  it("lists the four problems of a signed webhook delivery in its dead letter", async () => {
    const { doc, problems } = documentWithFourProblems("conv_four_problems_webhook");
    const body = JSON.stringify({
      type: "post_call_transcription",
      event_timestamp: Math.floor(Date.now() / 1000),
      data: doc,
    });
    const response = await fetch(`${server.url}/ingest/v1/webhooks/elevenlabs`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ElevenLabs-Signature": signWebhookBody(body, SECRET, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    expect(response.status).toBe(200);
    const letters = await server.server.services.db.webhooks.listDeadLetters(100);
    const letter = letters.find((l) => l.body === body);
    expect(letter).toBeDefined();
    for (const problem of problems) expect(letter?.reason).toContain(`${["data", ...problem].join(".")}: `);
  });

  it(`lists at most ${MAX_ISSUES} issues for a document with thousands of problems`, async () => {
    const turns = 3000;
    const response = await putConversation(server, documentWithManyProblems("conv_many_problems", turns));
    expect(response.status).toBe(422);
    const { detail } = (await response.json()) as { detail: ValidationIssue[] };
    expect(detail).toHaveLength(MAX_ISSUES);
    expect(detail.map((i) => i.loc)).toEqual(
      Array.from({ length: MAX_ISSUES }, (_, i) => ["body", "transcript", i, "role"]),
    );
  });

  it("lists every bad query parameter of a list request", async () => {
    const response = await server.fetch(
      "/v1/convai/conversations?page_size=lots&rating_min=9&call_duration_min_secs=-1",
    );
    expect(response.status).toBe(422);
    const { detail } = (await response.json()) as { detail: ValidationIssue[] };
    expect(sortedLocs(detail.map((i) => i.loc))).toEqual(
      sortedLocs([
        ["query", "page_size"],
        ["query", "rating_min"],
        ["query", "call_duration_min_secs"],
      ]),
    );
  });
});

describe.each(BACKENDS)("every validation issue of an import line is listed (%s)", (backend) => {
  const storage = createTestStorage(backend);
  afterAll(async () => storage.cleanup());

  const storageFlags = () =>
    storage.databaseUrl ? ["--database-url", storage.databaseUrl] : ["--data", storage.dataDir];

  it("reports the four problems of a line, and at most the cap for a line with thousands", async () => {
    const { doc, problems } = documentWithFourProblems("conv_four_problems_import");
    const many = documentWithManyProblems("conv_many_problems_import", 3000);
    const input = `${JSON.stringify(doc)}\n${JSON.stringify(many)}\n`;
    const result = await runCli(["import", "-", ...storageFlags()], { input });
    expect(result.code).toBe(1);
    const lines = result.stderr.split("\n");
    const first = lines.find((l) => l.startsWith("line 1: ")) ?? "";
    for (const problem of problems) expect(first).toContain(`${problem.join(".")}: `);
    expect(first.split("; ")).toHaveLength(problems.length);
    const second = lines.find((l) => l.startsWith("line 2: ")) ?? "";
    expect(second.split("; ")).toHaveLength(MAX_ISSUES);
    expect(result.stderr).toMatch(/0 created, 0 replaced, 2 bad lines/);
  });
});
