import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { audioFileName } from "../src/ingest/audio-files.js";
import { SILENT_MP3_FRAME_HEADER } from "../src/ingest/silent-mp3.js";
import { startServer } from "../src/main.js";
import { BASE_START_TIME, buildConversation } from "./fixtures/conversations.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";
import { putAudio, putConversations } from "./support/put-conversations.js";
import { runCli } from "./support/run-cli.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// A server filled through its API, backed up with `openconvai export --backup`, restored with
// `openconvai import DIR` into empty storage of the same backend: every read the API offers must
// answer the same bytes on both.

const AGENT = "agent_backup";
/** The longest id there is (512 characters), percent-encoded far past a file name's 255 bytes. */
const LONG_ID = `conv_long_${"ü".repeat(10)}${"x".repeat(492)}`;
const KEY = "oc_test_backup_round_trip";

/** A server on storage that already exists (the restored one). */
async function startOn(storage: TestStorage) {
  const config = resolveConfig(
    { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
    { OPENCONVAI_BOOTSTRAP_KEY: KEY },
  );
  const server = await startServer(config, pino({ level: "silent" }));
  return {
    server,
    fetch: (p: string, init: RequestInit = {}) =>
      fetch(`${server.url}${p}`, { ...init, headers: { "xi-api-key": KEY, ...init.headers } }),
  };
}

/** The flags that point a CLI run at the storage. */
function storageFlags(s: TestStorage): string[] {
  return ["--data", s.dataDir, ...(s.databaseUrl ? ["--database-url", s.databaseUrl] : [])];
}

type Fetch = (p: string, init?: RequestInit) => Promise<Response>;

/** Sends a JSON request and checks it was accepted. */
async function send(fetchApi: Fetch, method: string, p: string, body: unknown): Promise<unknown> {
  const response = await fetchApi(p, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${p} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

function sipMessage(n: number): Record<string, unknown> {
  return {
    call_id: "call-7@sip.example.com",
    phone_numbers: ["+14155550100"],
    local_address: "10.0.0.1:5060",
    remote_address: "203.0.113.7:5060",
    transport: "udp",
    raw_message: `INVITE sip:agent@sip.example.com SIP/2.0\r\nCSeq: ${n} INVITE\r\n\r\n`,
    error_message: "",
    direction: n % 2 ? "inbound" : "outbound",
    created_at_unix_micro: 1_750_000_000_000_000 + n,
  };
}

/** Fills a server with one of everything a backup must carry; returns the ids worth reading. */
async function fill(
  server: TestServer,
): Promise<{ conversations: string[]; tags: string[]; files: string[]; agents: string[] }> {
  // conv_a and conv_A differ only in case: one file name on a case-insensitive file system.
  const conversations = ["conv_a", "conv_b", "conv_c", "conv.d", "conv_A", LONG_ID];
  await putConversations(
    server,
    conversations.map((id, i) =>
      buildConversation({
        id,
        agentId: AGENT,
        startTime: BASE_START_TIME + i * 100,
        topicIds: i % 2 ? ["billing"] : ["refunds"],
        evaluations: { solved: i % 2 ? "success" : "failure" },
      }),
    ),
  );
  const mp3 = Buffer.concat([Buffer.from(SILENT_MP3_FRAME_HEADER), Buffer.alloc(400, 7)]);
  expect((await putAudio(server, "conv_a", mp3, "audio/mpeg")).status).toBeLessThan(300);
  expect((await putAudio(server, "conv.d", Buffer.from("RIFF-wav-bytes"), "audio/wav")).status).toBeLessThan(
    300,
  );
  const upper = Buffer.concat([Buffer.from(SILENT_MP3_FRAME_HEADER), Buffer.alloc(300, 9)]);
  expect((await putAudio(server, "conv_A", upper, "audio/mpeg")).status).toBeLessThan(300);
  expect((await putAudio(server, LONG_ID, Buffer.from("OggS-long"), "audio/ogg")).status).toBeLessThan(300);

  const tags: string[] = [];
  for (const title of ["vip", "gone", "follow-up"]) {
    const tag = (await send(server.fetch, "POST", "/v1/convai/tags", {
      title,
      description: `${title}!`,
    })) as {
      tag_id: string;
    };
    tags.push(tag.tag_id);
  }
  // A deleted tag leaves a gap in the list positions the cursors encode.
  expect((await server.fetch(`/v1/convai/tags/${tags[1]}`, { method: "DELETE" })).status).toBe(200);
  tags.splice(1, 1);
  await send(server.fetch, "POST", "/v1/convai/conversations/conv_a/tags", { tag_ids: tags });
  await send(server.fetch, "POST", "/v1/convai/conversations/conv_c/tags", { tag_ids: [tags[1]] });

  await send(server.fetch, "PUT", `/ingest/v1/agents/${AGENT}/topics`, [
    { topic_id: "billing", label: "Billing", description: "Invoices and charges", x_2d: 0.25, y_2d: -1.5 },
    { topic_id: "refunds", label: "Refunds", description: "Money back", parent_topic_id: "billing" },
  ]);
  await send(server.fetch, "PUT", `/ingest/v1/agents/${AGENT}/analysis-settings`, {
    evaluation_criteria: [
      { id: "solved", name: "Solved", conversation_goal_prompt: "The issue was solved." },
    ],
    data_collection: { order_id: { type: "string", description: "The order number" } },
  });
  await send(
    server.fetch,
    "PUT",
    "/ingest/v1/conversations/conv_b/sip-messages",
    [0, 1, 2, 3, 4].map(sipMessage),
  );

  const files: string[] = [];
  for (const [name, type, bytes] of [
    ["notes.txt", "text/plain", "call notes\n"],
    ["scan.pdf", "application/pdf", "%PDF-1.4 not really"],
  ] as const) {
    const form = new FormData();
    form.append("file", new File([bytes], name, { type }));
    const uploaded = await server.fetch("/v1/convai/conversations/conv_c/files", {
      method: "POST",
      body: form,
    });
    expect(uploaded.status).toBe(200);
    files.push(((await uploaded.json()) as { file_id: string }).file_id);
  }
  const agents: string[] = [];
  const created = await server.client.conversationalAi.agents.create({
    name: "Support Désk",
    tags: ["prod"],
    conversationConfig: {
      agent: { firstMessage: "Hello!", language: "en", prompt: { prompt: "Be kind.", temperature: 0.5 } },
      tts: { voiceId: "voice_1" },
    },
    platformSettings: { evaluation: { criteria: [criterion("solved")] } },
  });
  agents.push(created.agentId);
  const gone = (await send(server.fetch, "POST", "/v1/convai/agents/create", {
    name: "Gone",
    conversation_config: {},
  })) as { agent_id: string };
  agents.push(gone.agent_id);
  // Unknown keys at every depth, in an order of their own, kept as sent.
  const unknown = (await send(server.fetch, "POST", "/v1/convai/agents/create", {
    zeta: { "10": true, b: [1.5, "two", null, { deep: { deeper: ["x"] } }], a: "🙂" },
    conversation_config: { agent: { first_message: "Hi" }, x_custom: { n: 1e21 } },
    name: "Sales",
    workflow: { nodes: { start: { type: "start" } } },
  })) as { agent_id: string };
  agents.push(unknown.agent_id);
  await send(server.fetch, "PATCH", `/v1/convai/agents/${unknown.agent_id}`, { tags: ["later"] });
  // A deleted agent leaves a gap in the list positions the cursors encode.
  expect((await server.fetch(`/v1/convai/agents/${gone.agent_id}`, { method: "DELETE" })).status).toBe(200);
  return { conversations, tags, files, agents };
}

/** A criterion as the SDK takes it (camelCase). */
function criterion(id: string) {
  return { id, name: `Criterion ${id}`, conversationGoalPrompt: `Check ${id}` };
}

/** Follows a cursor list to its end, recording each page's answer. */
async function readPages(fetchApi: Fetch, base: string, answers: Map<string, string>): Promise<void> {
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const p = `${base}${base.includes("?") ? "&" : "?"}page_size=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const response = await fetchApi(p);
    const body = await response.text();
    answers.set(`GET ${p}`, `${response.status}\n${body}`);
    cursor = (JSON.parse(body) as { next_cursor?: string | null }).next_cursor ?? null;
    if (!cursor) return;
  }
}

/** Every read of the API over what `fill` wrote: the request, and the status, type and bytes it answered. */
async function readEverything(
  fetchApi: Fetch,
  ids: Awaited<ReturnType<typeof fill>>,
): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  const get = async (p: string) => {
    const response = await fetchApi(p);
    const body = Buffer.from(await response.arrayBuffer()).toString("base64");
    answers.set(`GET ${p}`, `${response.status} ${response.headers.get("content-type")}\n${body}`);
  };
  await readPages(fetchApi, "/v1/convai/conversations", answers);
  await get("/v1/convai/conversations?page_size=100");
  for (const id of ids.conversations) {
    const enc = encodeURIComponent(id);
    await get(`/v1/convai/conversations/${enc}`);
    await get(`/v1/convai/conversations/${enc}/audio`);
    await readPages(fetchApi, `/v1/convai/conversations/${enc}/sip-messages`, answers);
  }
  await readPages(fetchApi, "/v1/convai/tags", answers);
  for (const tag of ids.tags) await get(`/v1/convai/tags/${tag}`);
  await get(
    `/v1/convai/agents/${AGENT}/topics?from_unix_secs=${BASE_START_TIME}&to_unix_secs=${BASE_START_TIME + 86_400}`,
  );
  await get(`/ingest/v1/agents/${AGENT}/analysis-settings`);
  await readPages(fetchApi, "/v1/convai/agents", answers);
  await readPages(fetchApi, "/v1/convai/agents?search=DÉSK", answers);
  for (const agent of ids.agents) await get(`/v1/convai/agents/${agent}`);
  return answers;
}

describe.each(BACKENDS)("export --backup, then import DIR into an empty server (%s)", (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("answers every read the same, byte for byte, and files come back whole", async () => {
    const original = await startTestServer(backend);
    cleanups.push(() => original.stop());
    const ids = await fill(original);
    const before = await readEverything(original.fetch, ids);
    // Not a vacuous comparison: what was filled is there to compare.
    expect(before.get("GET /v1/convai/conversations/conv_a/audio")).toMatch(/^200 audio\/mpeg/);
    expect(before.get("GET /v1/convai/conversations/conv_A/audio")).toMatch(/^200 audio\/mpeg/);
    expect(before.get(`GET /v1/convai/conversations/${encodeURIComponent(LONG_ID)}/audio`)).toMatch(
      /^200 audio\/ogg/,
    );
    expect(before.get("GET /v1/convai/tags?page_size=1")).toContain('"title":"follow-up"');
    expect([...before.keys()].filter((k) => k.includes("sip-messages") && k.includes("conv_b"))).toHaveLength(
      5,
    );
    expect([...before.keys()].filter((k) => k.startsWith("GET /v1/convai/agents?page_size=1"))).toHaveLength(
      2,
    );
    expect(before.get(`GET /v1/convai/agents/${ids.agents[0]}`)).toMatch(/^200 application\/json/);
    expect(before.get(`GET /v1/convai/agents/${ids.agents[1]}`)).toMatch(/^404 /);
    expect(before.get("GET /v1/convai/agents?search=DÉSK&page_size=1")).toContain('"name":"Support Désk"');

    const dir = `${original.storage.dataDir}-backup`;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const exported = await runCli(["export", "--backup", dir, ...storageFlags(original.storage)]);
    expect(exported.stderr).toMatch(
      /6 conversations, 4 recordings, 2 agents, 2 tags, topics of 1 agents, analysis settings of 1 agents, 2 files, 5 SIP messages of 1 conversations/,
    );
    expect(exported.code).toBe(0);
    // One recording file each, no two named alike even ignoring case, each name a short one.
    const names = await readdir(path.join(dir, "audio"));
    expect(names).toHaveLength(4);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(4);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);

    const restoredStorage = createTestStorage(backend);
    cleanups.push(() => restoredStorage.cleanup());
    const imported = await runCli(["import", dir, ...storageFlags(restoredStorage)]);
    expect(imported.stderr).toMatch(/restored .*: 6 conversations created/);
    expect(imported.code).toBe(0);

    const restored = await startOn(restoredStorage);
    cleanups.push(() => restored.server.stop());
    const after = await readEverything(restored.fetch, ids);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [request, answer] of before)
      expect(`${request}\n${after.get(request)}`).toBe(`${request}\n${answer}`);

    // Agents: the same rows (place in the list, times, the stored document byte for byte).
    const agentsOf = (services: typeof restored.server.services) => services.db.agents.scanAgents(null, 100);
    expect((await agentsOf(original.server.services)).map((a) => a.agentId)).toEqual([
      ids.agents[0],
      ids.agents[2],
    ]);
    expect(await agentsOf(restored.server.services)).toEqual(await agentsOf(original.server.services));

    // Uploaded files: the same rows, and the same bytes behind them.
    const filesOf = async (services: typeof restored.server.services) => {
      const rows = await services.db.conversationFiles.scanFiles(null, 100);
      return Promise.all(
        rows.map(async (row) => {
          const body = await services.blobs.get(row.blobKey);
          const chunks: Buffer[] = [];
          for await (const chunk of body ?? []) chunks.push(chunk as Buffer);
          return { ...row, bytes: Buffer.concat(chunks).toString("utf8") };
        }),
      );
    };
    const originalFiles = await filesOf(original.server.services);
    expect(originalFiles.map((f) => f.bytes).sort()).toEqual(["%PDF-1.4 not really", "call notes\n"]);
    expect(await filesOf(restored.server.services)).toEqual(originalFiles);
    // And the API treats them the same: deleting one answers alike on both.
    for (const fileId of ids.files) {
      const p = `/v1/convai/conversations/conv_c/files/${fileId}`;
      const a = await original.fetch(p, { method: "DELETE" });
      const b = await restored.fetch(p, { method: "DELETE" });
      expect(`${b.status} ${await b.text()}`).toBe(`${a.status} ${await a.text()}`);
    }
  }, 60_000);

  it("restores a backup written before backups carried agents (no agents.ndjson), and names a bad agent line", async () => {
    const original = await startTestServer(backend);
    cleanups.push(() => original.stop());
    await putConversations(original, [buildConversation({ id: "conv_old", agentId: AGENT })]);
    await send(original.fetch, "POST", "/v1/convai/agents/create", { name: "Kept", conversation_config: {} });
    const dir = `${original.storage.dataDir}-backup`;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const exported = await runCli(["export", "--backup", dir, ...storageFlags(original.storage)]);
    expect(exported.code).toBe(0);
    // What an older openconvai wrote: no agents file, no agents count.
    await rm(path.join(dir, "agents.ndjson"));
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    delete manifest.counts.agents;
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));

    const restoredStorage = createTestStorage(backend);
    cleanups.push(() => restoredStorage.cleanup());
    const imported = await runCli(["import", dir, ...storageFlags(restoredStorage)]);
    expect(imported.stderr).toMatch(/restored .*: 1 conversations created, .* 0 agents, /);
    expect(imported.code).toBe(0);
    const restored = await startOn(restoredStorage);
    cleanups.push(() => restored.server.stop());
    const conversation = await restored.fetch("/v1/convai/conversations/conv_old");
    expect(conversation.status).toBe(200);
    expect(await (await original.fetch("/v1/convai/conversations/conv_old")).text()).toBe(
      await conversation.text(),
    );

    // A damaged agents file is named, with its line, and the import exits 1.
    await writeFile(
      path.join(dir, "agents.ndjson"),
      '{"agent_id":"agent_x","seq":1,"created_at_unix_secs":1,"updated_at_unix_secs":1,"document":[]}\n',
    );
    const damaged = await runCli(["import", dir, ...storageFlags(restoredStorage)]);
    expect(damaged.stderr).toMatch(
      /agents\.ndjson line 1: document must be a JSON object while restoring agents/,
    );
    expect(damaged.code).toBe(1);
  }, 60_000);

  it("restores a version-1 backup: recordings named after their ids, no audio.ndjson", async () => {
    const original = await startTestServer(backend);
    cleanups.push(() => original.stop());
    await putConversations(original, [
      buildConversation({ id: "conv_one", agentId: AGENT }),
      buildConversation({ id: "conv.two", agentId: AGENT, startTime: BASE_START_TIME + 100 }),
    ]);
    for (const [id, bytes, type] of [
      ["conv_one", "one-bytes", "audio/mpeg"],
      ["conv.two", "two-bytes", "audio/wav"],
    ] as const) {
      const put = await putAudio(original, id, Buffer.from(bytes), type);
      expect(`${put.status} ${await put.text()}`).toMatch(/^200 /);
    }
    const dir = `${original.storage.dataDir}-backup`;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    expect((await runCli(["export", "--backup", dir, ...storageFlags(original.storage)])).code).toBe(0);
    // What an older openconvai wrote: files named after the ids, no index, layout version 1.
    const index = (await readFile(path.join(dir, "audio.ndjson"), "utf8")).trim().split("\n");
    for (const line of index) {
      const { conversation_id: id, file, content_type: type } = JSON.parse(line);
      await rename(path.join(dir, "audio", file), path.join(dir, "audio", audioFileName(id, type)));
    }
    await rm(path.join(dir, "audio.ndjson"));
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    manifest.version = 1;
    await writeFile(path.join(dir, "manifest.json"), JSON.stringify(manifest));

    const restoredStorage = createTestStorage(backend);
    cleanups.push(() => restoredStorage.cleanup());
    const imported = await runCli(["import", dir, ...storageFlags(restoredStorage)]);
    expect(imported.stderr).toMatch(/restored .*: 2 conversations created, .* 2 recordings/);
    expect(imported.code).toBe(0);
    // Read back as plain `export --audio` names them: the bytes of each recording, by its id.
    const readBack = `${restoredStorage.dataDir}-audio`;
    const out = `${readBack}.ndjson`;
    cleanups.push(() => rm(readBack, { recursive: true, force: true }));
    cleanups.push(() => rm(out, { force: true }));
    const exported = await runCli([
      "export",
      "--out",
      out,
      "--audio",
      readBack,
      ...storageFlags(restoredStorage),
    ]);
    expect(exported.code).toBe(0);
    expect(await readFile(path.join(readBack, "conv_one.mp3"), "utf8")).toBe("one-bytes");
    expect(await readFile(path.join(readBack, "conv.two.wav"), "utf8")).toBe("two-bytes");
  }, 60_000);

  it("says which count differs from the manifest's, and exits 1", async () => {
    const original = await startTestServer(backend);
    cleanups.push(() => original.stop());
    await putConversations(original, [buildConversation({ id: "conv_count", agentId: AGENT })]);
    for (const title of ["one", "two"]) await send(original.fetch, "POST", "/v1/convai/tags", { title });
    const dir = `${original.storage.dataDir}-backup`;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    expect((await runCli(["export", "--backup", dir, ...storageFlags(original.storage)])).code).toBe(0);
    // A tags file cut short (a copy that stopped early): every line left is a good one.
    const tags = (await readFile(path.join(dir, "tags.ndjson"), "utf8")).trim().split("\n");
    expect(tags).toHaveLength(2);
    await writeFile(path.join(dir, "tags.ndjson"), `${tags[0]}\n`);

    const restoredStorage = createTestStorage(backend);
    cleanups.push(() => restoredStorage.cleanup());
    const imported = await runCli(["import", dir, ...storageFlags(restoredStorage)]);
    expect(imported.stderr).toMatch(/openconvai import: tags: the manifest says 2, 1 restored\n/);
    expect(imported.stderr).not.toMatch(/conversations: the manifest says/);
    expect(imported.code).toBe(1);
  }, 60_000);

  it("a file whose bytes are missing from the backup leaves the file the server has alone", async () => {
    const original = await startTestServer(backend);
    cleanups.push(() => original.stop());
    await putConversations(original, [buildConversation({ id: "conv_files", agentId: AGENT })]);
    const form = new FormData();
    form.append("file", new File(["the bytes"], "notes.txt", { type: "text/plain" }));
    const uploaded = await original.fetch("/v1/convai/conversations/conv_files/files", {
      method: "POST",
      body: form,
    });
    expect(`${uploaded.status} ${await uploaded.text()}`).toMatch(/^200 /);
    const dir = `${original.storage.dataDir}-backup`;
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    expect((await runCli(["export", "--backup", dir, ...storageFlags(original.storage)])).code).toBe(0);
    const restoredStorage = createTestStorage(backend);
    cleanups.push(() => restoredStorage.cleanup());
    expect((await runCli(["import", dir, ...storageFlags(restoredStorage)])).code).toBe(0);

    // Restored again from a backup that lost the file's bytes: the restore fails, the file stays.
    await rm(path.join(dir, "files"), { recursive: true });
    const again = await runCli(["import", dir, ...storageFlags(restoredStorage)]);
    expect(again.stderr).toMatch(/ENOENT.* while restoring files/);
    expect(again.code).toBe(1);
    const restored = await startOn(restoredStorage);
    cleanups.push(() => restored.server.stop());
    const rows = await restored.server.services.db.conversationFiles.scanFiles(null, 10);
    expect(rows.map((r) => r.fileName)).toEqual(["notes.txt"]);
    const body = await restored.server.services.blobs.get(rows[0]?.blobKey ?? "");
    const chunks: Buffer[] = [];
    for await (const chunk of body ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("the bytes");
  }, 60_000);
});
