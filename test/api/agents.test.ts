import type { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are walked freely by the assertions.
type Json = Record<string, any>;

/** A criterion in the SDK's PromptEvaluationCriteria shape (camelCase, as the SDK is called). */
const criterion = (id: string) => ({ id, name: `Criterion ${id}`, conversationGoalPrompt: `Check ${id}` });

describe.each(BACKENDS)("agents API on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const agents = () => sdk.client.conversationalAi.agents;
  const postJson = (path: string, body: unknown, method = "POST") =>
    server.fetch(path, {
      method,
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  /** Every agent id the list shows (all pages). */
  const allAgentIds = async (): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await agents().list({ pageSize: 100, cursor });
      ids.push(...page.agents.map((a) => a.agentId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return ids;
  };

  it("creates an agent from a minimal body and gets it back with the required keys filled", async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await agents().create({ conversationConfig: {} });
    expect(sdk.lastBody()).toEqual({ agent_id: created.agentId });
    expect(created.agentId).toMatch(/^agent_[0-9a-z]{28}$/);

    const agent = await agents().get(created.agentId);
    const wire = sdk.lastBody() as Json;
    expect(wire).toEqual({
      agent_id: created.agentId,
      conversation_config: {},
      name: "",
      metadata: {
        created_at_unix_secs: wire.metadata.created_at_unix_secs,
        updated_at_unix_secs: wire.metadata.updated_at_unix_secs,
      },
    });
    expect(agent.metadata.createdAtUnixSecs).toBeGreaterThanOrEqual(before);
    expect(agent.metadata.updatedAtUnixSecs).toBe(agent.metadata.createdAtUnixSecs);
  });

  it("creates an agent from a full body and gets every part back as sent", async () => {
    const body = {
      name: "Full agent",
      tags: ["support", "en"],
      conversationConfig: {
        agent: {
          firstMessage: "Hello! How can I help?",
          language: "en",
          prompt: { prompt: "You are a helpful agent.", llm: "gpt-4o-mini" as const, temperature: 0.3 },
        },
        tts: { voiceId: "voice_full_1", stability: 0.5 },
        conversation: { textOnly: false, maxDurationSeconds: 600 },
        turn: { turnTimeout: 7 },
      },
      platformSettings: {
        evaluation: { criteria: [criterion("solved")] },
        dataCollection: { city: { type: "string" as const, description: "The caller's city" } },
      },
    } satisfies ElevenLabs.conversationalAi.BodyCreateAgentV1ConvaiAgentsCreatePost;
    const { agentId } = await agents().create(body);

    const agent = await agents().get(agentId);
    expect(agent).toMatchObject({ agentId, name: "Full agent", tags: ["support", "en"] });
    expect(agent.conversationConfig).toMatchObject(body.conversationConfig);
    expect(agent.platformSettings).toMatchObject({
      evaluation: { criteria: [criterion("solved")] },
      dataCollection: body.platformSettings.dataCollection,
    });

    const { agents: found } = await agents().list({ search: "Full agent" });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      agentId,
      name: "Full agent",
      voiceId: "voice_full_1",
      tags: ["support", "en"],
      createdAtUnixSecs: agent.metadata.createdAtUnixSecs,
      archived: false,
    });
    expect(found[0]?.accessInfo).toMatchObject({ isCreator: true, role: "admin" });
  });

  it("fills the workflow keys the SDK requires in a GET, keeping the ones sent", async () => {
    const { agentId } = await agents().create({ conversationConfig: {}, workflow: {} });
    await agents().get(agentId);
    expect((sdk.lastBody() as Json).workflow).toEqual({
      edges: {},
      nodes: {},
      prevent_subagent_loops: false,
    });

    const sent = await postJson("/v1/convai/agents/create", {
      conversation_config: {},
      workflow: { prevent_subagent_loops: true, x_layout: "grid" },
    });
    const other = await agents().get(((await sent.json()) as Json).agent_id);
    expect(other.workflow?.preventSubagentLoops).toBe(true);
    expect((sdk.lastBody() as Json).workflow).toEqual({
      prevent_subagent_loops: true,
      x_layout: "grid",
      edges: {},
      nodes: {},
    });
  });

  it("keeps keys it does not know exactly as they went in", async () => {
    const future = { mode: "beta", weights: [1, 2.5, -3e-7], nested: { ключ: "значение ✓", empty: {} } };
    const body = {
      name: "Unknown keys",
      x_future_top: future,
      conversation_config: {
        agent: { first_message: "Hi", x_future_agent: [{ a: null }] },
        x_future_cc: true,
      },
      platform_settings: { x_future_ps: { depth: { deeper: [[], {}] } } },
    };
    const response = await postJson("/v1/convai/agents/create", body);
    expect(response.status).toBe(200);
    const { agent_id: agentId } = (await response.json()) as Json;

    const raw = await (await server.fetch(`/v1/convai/agents/${agentId}`)).text();
    expect(raw).toContain(`"x_future_top":${JSON.stringify(future)}`);
    expect(raw).toContain(`"conversation_config":${JSON.stringify(body.conversation_config)}`);
    expect(raw).toContain(`"platform_settings":${JSON.stringify(body.platform_settings)}`);

    // The SDK reads it too, and passes the unknown keys through.
    const agent = (await agents().get(agentId)) as unknown as Json;
    expect(agent.x_future_top).toEqual(future);
  });

  it("keeps a __proto__ key as an ordinary key, through a merge too", async () => {
    // Written as text: an object literal's `__proto__` would set the prototype, not a key.
    const created = await postJson(
      "/v1/convai/agents/create",
      '{"name":"Proto","__proto__":{"polluted":true},"conversation_config":{"__proto__":{"a":1},"agent":{}}}',
    );
    const { agent_id: agentId } = (await created.json()) as Json;
    // One `__proto__` merged into a stored one, one new where there was none.
    const patched = await postJson(
      `/v1/convai/agents/${agentId}`,
      '{"conversation_config":{"__proto__":{"b":2},"agent":{"__proto__":{"c":3}}}}',
      "PATCH",
    );
    expect(patched.status).toBe(200);
    const raw = await (await server.fetch(`/v1/convai/agents/${agentId}`)).text();
    expect(raw).toContain('"__proto__":{"polluted":true}');
    expect(raw).toContain('"conversation_config":{"__proto__":{"a":1,"b":2},"agent":{"__proto__":{"c":3}}}');
    expect(({} as Json).polluted).toBeUndefined();
  });

  it("lists agents newest first, a page at a time, and searches names", async () => {
    const names = ["Pager token-q7 one", "Pager TOKEN-Q7 two", "Pager token-q7 three", "Other agent"];
    const ids: string[] = [];
    for (const name of names) ids.push((await agents().create({ name, conversationConfig: {} })).agentId);

    const first = await agents().list({ search: "TOKEN-q7", pageSize: 2 });
    expect(first.agents.map((a) => a.agentId)).toEqual([ids[2], ids[1]]);
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await agents().list({
      search: "TOKEN-q7",
      pageSize: 2,
      cursor: first.nextCursor ?? undefined,
    });
    expect(second.agents.map((a) => a.agentId)).toEqual([ids[0]]);
    expect(second.hasMore).toBe(false);
    expect((sdk.lastBody() as Json).next_cursor).toBeNull();

    const everything = await allAgentIds();
    expect(everything.indexOf(ids[3] as string)).toBeLessThan(everything.indexOf(ids[0] as string));
    expect(everything).toHaveLength(new Set(everything).size);

    const bad = await server.fetch("/v1/convai/agents?cursor=not-a-cursor");
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as Json).detail[0]).toMatchObject({ loc: ["query", "cursor"] });
  });

  it("updates by deep merge: objects merge, arrays and scalars replace, null is kept", async () => {
    const { agentId } = await agents().create({
      name: "Merge me",
      tags: ["a", "b"],
      conversationConfig: {
        agent: { firstMessage: "Hi", prompt: { prompt: "Old prompt", llm: "gpt-4o" } },
        tts: { voiceId: "voice_keep" },
      },
      platformSettings: { evaluation: { criteria: [criterion("one"), criterion("two")] } },
    });
    const before = await agents().get(agentId);

    const updated = await agents().update(agentId, {
      conversationConfig: { agent: { prompt: { prompt: "New prompt" } } },
      tags: ["c"],
      platformSettings: { evaluation: { criteria: [criterion("three")] } },
    });
    expect(updated.conversationConfig.agent?.firstMessage).toBe("Hi");
    expect(updated.conversationConfig.agent?.prompt).toMatchObject({ prompt: "New prompt", llm: "gpt-4o" });
    expect(updated.conversationConfig.tts?.voiceId).toBe("voice_keep");
    expect(updated.tags).toEqual(["c"]);
    expect(updated.platformSettings?.evaluation?.criteria).toEqual([criterion("three")]);
    expect(updated.name).toBe("Merge me");
    expect(updated.metadata.createdAtUnixSecs).toBe(before.metadata.createdAtUnixSecs);
    expect(updated.metadata.updatedAtUnixSecs).toBeGreaterThanOrEqual(before.metadata.updatedAtUnixSecs);
    expect(await agents().get(agentId)).toEqual(updated);

    // null replaces the value and stays as a key (it does not delete it).
    const nulled = await postJson(
      `/v1/convai/agents/${agentId}`,
      { name: "Renamed", conversation_config: { agent: { first_message: null } } },
      "PATCH",
    );
    expect(nulled.status).toBe(200);
    const wire = (await nulled.json()) as Json;
    expect(wire.conversation_config.agent).toEqual({
      first_message: null,
      prompt: { prompt: "New prompt", llm: "gpt-4o" },
    });
    expect((await agents().list({ search: "renamed" })).agents.map((a) => a.agentId)).toEqual([agentId]);
  });

  it("duplicates an agent under a new id, with the name given or the original's", async () => {
    const { agentId } = await agents().create({
      name: "Original",
      conversationConfig: { agent: { firstMessage: "Copied greeting" } },
    });
    const original = await agents().get(agentId);

    const named = await agents().duplicate(agentId, { name: "The copy" });
    expect(sdk.lastBody()).toEqual({ agent_id: named.agentId });
    expect(named.agentId).not.toBe(agentId);
    const copy = await agents().get(named.agentId);
    expect(copy.name).toBe("The copy");
    expect(copy.conversationConfig).toEqual(original.conversationConfig);

    const unnamed = await agents().duplicate(agentId);
    expect((await agents().get(unnamed.agentId)).name).toBe("Original");
    expect(await agents().get(agentId)).toEqual(original);

    const missing = await catchSdkError(() => agents().duplicate("agent_missing"));
    expect(missing.statusCode).toBe(404);
  });

  it("deletes an agent; then every route answers 404 agent_not_found", async () => {
    const { agentId } = await agents().create({ name: "Short-lived", conversationConfig: {} });
    await agents().delete(agentId);
    expect(await allAgentIds()).not.toContain(agentId);

    for (const call of [
      () => agents().get(agentId),
      () => agents().update(agentId, { name: "x" }),
      () => agents().delete(agentId),
      () => agents().duplicate(agentId),
    ]) {
      const error = await catchSdkError(call);
      expect(error.statusCode).toBe(404);
      expect(error.body).toEqual({
        detail: { status: "agent_not_found", message: expect.stringContaining(agentId) },
      });
    }
  });

  it("refuses invalid bodies with a 422 naming each problem, and writes nothing", async () => {
    const { agentId } = await agents().create({
      name: "Stays as is",
      conversationConfig: { tts: { voiceId: "v" } },
    });
    const storedBefore = await (await server.fetch(`/v1/convai/agents/${agentId}`)).text();
    const idsBefore = await allAgentIds();

    const cases: [string, string, unknown, { loc: (string | number)[]; type: string }[]][] = [
      [
        "POST",
        "/v1/convai/agents/create",
        { name: "No config" },
        [{ loc: ["body", "conversation_config"], type: "missing" }],
      ],
      ["POST", "/v1/convai/agents/create", [], [{ loc: ["body"], type: "dict_type" }]],
      [
        "POST",
        "/v1/convai/agents/create",
        {
          name: 7,
          conversation_config: { tts: { voice_id: 5 }, agent: { prompt: { temperature: "warm" } } },
          platform_settings: { evaluation: { criteria: [{ id: "c1", name: "No goal" }] } },
        },
        [
          { loc: ["body", "name"], type: "string_type" },
          { loc: ["body", "conversation_config", "tts", "voice_id"], type: "string_type" },
          { loc: ["body", "conversation_config", "agent", "prompt", "temperature"], type: "float_type" },
          {
            loc: ["body", "platform_settings", "evaluation", "criteria", 0, "conversation_goal_prompt"],
            type: "missing",
          },
        ],
      ],
      [
        "PATCH",
        `/v1/convai/agents/${agentId}`,
        { conversation_config: null },
        [{ loc: ["body", "conversation_config"], type: "dict_type" }],
      ],
      [
        "PATCH",
        `/v1/convai/agents/${agentId}`,
        { name: "Changed", conversation_config: { tts: { voice_id: ["v2"] } } },
        [{ loc: ["body", "conversation_config", "tts", "voice_id"], type: "string_type" }],
      ],
      [
        "POST",
        `/v1/convai/agents/${agentId}/duplicate`,
        { name: 1 },
        [{ loc: ["body", "name"], type: "string_type" }],
      ],
    ];
    for (const [method, path, body, expected] of cases) {
      const response = await postJson(path, body, method);
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(422);
      const detail = ((await response.json()) as Json).detail as Json[];
      expect(detail.map(({ loc, type }) => ({ loc, type }))).toEqual(expected);
      for (const issue of detail) expect(issue.msg).toEqual(expect.any(String));
    }

    expect(await (await server.fetch(`/v1/convai/agents/${agentId}`)).text()).toBe(storedBefore);
    expect(await allAgentIds()).toEqual(idsBefore);
  });
});
