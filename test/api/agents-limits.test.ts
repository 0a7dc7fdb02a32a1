import type { ErrorObject } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../src/agents/agent-service.js";
import { MAX_ISSUES, toValidationIssues } from "../../src/conversations/validation-issues.js";
import { InvalidInputError } from "../../src/domain/errors.js";
import type { AgentChange, AgentRow, AgentStore } from "../../src/store/agent-store.js";
import type { Database } from "../../src/store/store.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are walked freely by the assertions.
type Json = Record<string, any>;

/** The agent routes' body limit (2 MiB), as docs/agents.md states it. */
const AGENT_BODY_LIMIT = 2 * 1024 * 1024;

/** A create body whose `tags` hold `count` numbers (each an issue: tags are strings). */
const badTagsBody = (count: number) => ({ conversation_config: {}, tags: new Array(count).fill(1) });

/** The issues an InvalidInputError carries; fails the test if `run` does not throw one. */
async function issuesOf(run: () => Promise<unknown>): Promise<{ loc: (string | number)[]; type: string }[]> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  return (error as InvalidInputError).issues.map(({ loc, type }) => ({ loc, type }));
}

/** The highest resident memory this process has used so far, in bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

describe("toValidationIssues", () => {
  it("reads only the first MAX_ISSUES errors of a long list", () => {
    const error = (i: number): ErrorObject => ({
      keyword: "type",
      instancePath: `/tags/${i}`,
      schemaPath: "#/properties/tags/items/type",
      params: { type: "string" },
    });
    // Past MAX_ISSUES, reading an error fails: a mapper that reads them all throws.
    const errors = Array.from({ length: 10_000 }, (_, i) =>
      i < MAX_ISSUES
        ? error(i)
        : Object.defineProperty({ ...error(i) }, "keyword", {
            get() {
              throw new Error(`error ${i} was read`);
            },
          }),
    );
    const issues = toValidationIssues(errors, ["body"], "strict");
    expect(issues).toHaveLength(MAX_ISSUES);
    expect(issues.map((issue) => issue.loc)).toEqual(
      Array.from({ length: MAX_ISSUES }, (_, i) => ["body", "tags", i]),
    );
  });
});

describe.each(BACKENDS)("agent body limits over HTTP on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const send = (method: string, path: string, body: unknown) =>
    server.fetch(path, {
      method,
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const create = async (body: unknown): Promise<string> => {
    const response = await send("POST", "/v1/convai/agents/create", body);
    expect(response.status).toBe(200);
    return ((await response.json()) as Json).agent_id as string;
  };
  const agentCount = async () =>
    (((await (await server.fetch("/v1/convai/agents?page_size=100")).json()) as Json).agents as Json[])
      .length;
  const stored = async (agentId: string) => (await server.fetch(`/v1/convai/agents/${agentId}`)).text();

  it("answers a body with 200,000 invalid items with exactly the first 100 issues, and keeps serving", async () => {
    const agentId = await create({ name: "Unchanged", conversation_config: {} });
    const before = await stored(agentId);
    for (const [method, path] of [
      ["POST", "/v1/convai/agents/create"],
      ["PATCH", `/v1/convai/agents/${agentId}`],
    ] as const) {
      const response = await send(method, path, badTagsBody(200_000));
      expect(response.status, method).toBe(422);
      const detail = ((await response.json()) as Json).detail as Json[];
      expect(detail).toHaveLength(MAX_ISSUES);
      expect(detail.map(({ loc, type }) => ({ loc, type }))).toEqual(
        Array.from({ length: MAX_ISSUES }, (_, i) => ({ loc: ["body", "tags", i], type: "string_type" })),
      );
    }
    expect(await stored(agentId)).toBe(before);
    expect((await server.fetch("/v1/convai/agents")).status).toBe(200);
  });

  it("refuses a body over the agent limit with 413 payload_too_large, and writes nothing", async () => {
    const agentId = await create({ name: "Small", conversation_config: {} });
    const before = await stored(agentId);
    const countBefore = await agentCount();
    // Valid but for its size: a name just over the limit.
    const big = { name: "x".repeat(AGENT_BODY_LIMIT), conversation_config: {} };
    for (const [method, path] of [
      ["POST", "/v1/convai/agents/create"],
      ["PATCH", `/v1/convai/agents/${agentId}`],
      ["POST", `/v1/convai/agents/${agentId}/duplicate`],
    ] as const) {
      const response = await send(method, path, big);
      expect(response.status, `${method} ${path}`).toBe(413);
      expect(await response.json()).toEqual({
        detail: {
          status: "payload_too_large",
          message: `The agent body is larger than the limit of ${AGENT_BODY_LIMIT} bytes. Send a smaller one (docs/operations.md lists the limits).`,
        },
      });
    }
    expect(await stored(agentId)).toBe(before);
    expect(await agentCount()).toBe(countBefore);
  });

  it("takes a body just under the agent limit", async () => {
    const name = "y".repeat(AGENT_BODY_LIMIT - 100);
    const agentId = await create({ name, conversation_config: {} });
    expect(((await (await server.fetch(`/v1/convai/agents/${agentId}`)).json()) as Json).name).toBe(name);
  });

  it("still lists every issue of a large body with a few problems spread through it", async () => {
    const tags = Array.from({ length: 5000 }, (_, i) => `tag-${i}`) as unknown[];
    tags[10] = 1;
    tags[2500] = null;
    tags[4999] = { no: "object" };
    const body = {
      name: 7,
      tags,
      conversation_config: { tts: { voice_id: 5 }, agent: { prompt: { tool_ids: ["a", 2] } } },
      platform_settings: { evaluation: { criteria: [{ id: "c1", name: "No goal" }] } },
    };
    const response = await send("POST", "/v1/convai/agents/create", body);
    expect(response.status).toBe(422);
    const detail = ((await response.json()) as Json).detail as Json[];
    expect(detail.map(({ loc, type }) => ({ loc, type }))).toEqual([
      { loc: ["body", "name"], type: "string_type" },
      { loc: ["body", "tags", 10], type: "string_type" },
      { loc: ["body", "tags", 2500], type: "string_type" },
      { loc: ["body", "tags", 4999], type: "string_type" },
      { loc: ["body", "conversation_config", "tts", "voice_id"], type: "string_type" },
      { loc: ["body", "conversation_config", "agent", "prompt", "tool_ids", 1], type: "string_type" },
      {
        loc: ["body", "platform_settings", "evaluation", "criteria", 0, "conversation_goal_prompt"],
        type: "missing",
      },
    ]);
  });
});

/** A store that counts write transactions, and can run another writer just before the next one. */
class WatchedStore implements AgentStore {
  updates = 0;
  beforeNextUpdate: (() => Promise<unknown>) | undefined;
  /** Runs before every update while set (another writer that never stops). */
  beforeEveryUpdate: (() => Promise<unknown>) | undefined;
  constructor(private readonly inner: AgentStore) {}
  createAgent = (agent: Parameters<AgentStore["createAgent"]>[0]) => this.inner.createAgent(agent);
  getAgent = (agentId: string) => this.inner.getAgent(agentId);
  listAgents = (query: Parameters<AgentStore["listAgents"]>[0]) => this.inner.listAgents(query);
  deleteAgent = (agentId: string) => this.inner.deleteAgent(agentId);
  scanAgents = (afterSeq: number | null, limit: number) => this.inner.scanAgents(afterSeq, limit);
  restoreAgent = (agent: Parameters<AgentStore["restoreAgent"]>[0]) => this.inner.restoreAgent(agent);
  async updateAgent(agentId: string, change: (current: AgentRow) => AgentChange) {
    const other = this.beforeNextUpdate;
    this.beforeNextUpdate = undefined;
    if (other) await other();
    if (this.beforeEveryUpdate) await this.beforeEveryUpdate();
    this.updates++;
    return this.inner.updateAgent(agentId, change);
  }
}

describe.each(BACKENDS)("agent validation in the service on %s", (backend) => {
  let storage: TestStorage;
  let db: Database;
  let store: WatchedStore;
  let service: AgentService;

  beforeAll(async () => {
    storage = createTestStorage(backend);
    db = await storage.open();
    store = new WatchedStore(db.agents);
    service = new AgentService(store);
  });
  afterAll(async () => {
    await db?.close();
    await storage?.cleanup();
  });

  /** Another writer: sets the agent's tags straight in the store. */
  const setTagsAsAnotherWriter = (agentId: string, tags: string[]) =>
    db.agents.updateAgent(agentId, (current) => ({
      json: JSON.stringify({ ...JSON.parse(current.json), tags }),
      searchName: "first",
      updatedAtUnixSecs: current.updatedAtUnixSecs,
    }));

  it("checks a body with a million invalid items in bounded memory, 100 issues", async () => {
    const body = badTagsBody(1_000_000);
    const { agentId } = await service.createAgent({ name: "Kept", conversation_config: {} });
    const peakBefore = peakRss();
    const created = await issuesOf(() => service.createAgent(body));
    const patched = await issuesOf(() => service.updateAgent(agentId, body));
    // An error per item would take hundreds of MB (Ajv's error objects, then the issues).
    expect(peakRss() - peakBefore).toBeLessThan(64 * 1024 * 1024);
    for (const issues of [created, patched]) {
      expect(issues).toEqual(
        Array.from({ length: MAX_ISSUES }, (_, i) => ({ loc: ["body", "tags", i], type: "string_type" })),
      );
    }
    expect((await service.listAgents(null, 100, undefined)).map((a) => a.agentId)).toEqual([agentId]);
  });

  it("checks an invalid PATCH before any write transaction, and writes nothing", async () => {
    const { agentId } = await service.createAgent({ name: "As is", conversation_config: {} });
    const before = await service.getAgent(agentId);
    const updatesBefore = store.updates;
    expect(
      await issuesOf(() => service.updateAgent(agentId, { conversation_config: { tts: { voice_id: 5 } } })),
    ).toEqual([{ loc: ["body", "conversation_config", "tts", "voice_id"], type: "string_type" }]);
    expect(store.updates).toBe(updatesBefore);
    expect(await service.getAgent(agentId)).toEqual(before);
  });

  it("merges again when another writer changes the agent between the check and the write", async () => {
    const { agentId } = await service.createAgent({ name: "First", conversation_config: {} });
    store.beforeNextUpdate = () => setTagsAsAnotherWriter(agentId, ["from-the-other-writer"]);
    const updatesBefore = store.updates;
    const updated = await service.updateAgent(agentId, { name: "Second" });
    // The first write saw the other writer's change and wrote nothing; the second wrote the new merge.
    expect(store.updates - updatesBefore).toBe(2);
    expect(JSON.parse(updated?.json ?? "{}")).toEqual({
      name: "Second",
      conversation_config: {},
      tags: ["from-the-other-writer"],
    });
    expect(JSON.parse((await service.getAgent(agentId))?.json ?? "{}")).toEqual(
      JSON.parse(updated?.json ?? "{}"),
    );
  });

  it("finishes a PATCH even when the agent changes under every attempt", async () => {
    const { agentId } = await service.createAgent({ name: "Busy", conversation_config: {} });
    let round = 0;
    store.beforeEveryUpdate = () => setTagsAsAnotherWriter(agentId, [`round-${++round}`]);
    try {
      const updated = await service.updateAgent(agentId, { name: "Written" });
      expect(JSON.parse(updated?.json ?? "{}")).toEqual({
        name: "Written",
        conversation_config: {},
        tags: [`round-${round}`],
      });
    } finally {
      store.beforeEveryUpdate = undefined;
    }
  });
});
