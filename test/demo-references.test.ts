import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { buildDemoConversations } from "../src/ingest/demo-conversations.js";
import { startServer } from "../src/main.js";
import { BACKENDS, createTestStorage } from "./support/backends.js";
import { runCli } from "./support/run-cli.js";

/** The tag ids and, per agent, the topic ids the demo conversations hold. */
function referencedIds(): { tagIds: Set<string>; topicIds: Map<string, Set<string>> } {
  const tagIds = new Set<string>();
  const topicIds = new Map<string, Set<string>>();
  for (const doc of buildDemoConversations(1_760_000_000)) {
    for (const tagId of (doc.tag_ids as string[] | undefined) ?? []) tagIds.add(tagId);
    const agentId = String(doc.agent_id);
    for (const topicId of (doc.topic_ids as string[] | undefined) ?? []) {
      const ids = topicIds.get(agentId) ?? new Set<string>();
      ids.add(topicId);
      topicIds.set(agentId, ids);
    }
  }
  return { tagIds, topicIds };
}

describe.each(BACKENDS)("openconvai seed --demo defines what its conversations refer to (%s)", (backend) => {
  const storage = createTestStorage(backend);
  afterAll(async () => storage.cleanup());
  const storageFlags = () =>
    storage.databaseUrl ? ["--database-url", storage.databaseUrl] : ["--data", storage.dataDir];

  it("answers 200 for every tag and topic a demo conversation holds, after seeding twice", async () => {
    const { tagIds, topicIds } = referencedIds();
    // The demo data refers to some of each, or this test would prove nothing.
    expect(tagIds.size).toBeGreaterThan(0);
    expect(topicIds.size).toBeGreaterThan(0);

    for (const run of ["first", "second"]) {
      const result = await runCli(["seed", "--demo", ...storageFlags()]);
      expect(result.code, `${run} seed: ${result.stderr}`).toBe(0);
    }

    const apiKey = "oc_test_demo_references";
    const config = resolveConfig(
      { host: "127.0.0.1", port: "0", data: storage.dataDir, databaseUrl: storage.databaseUrl },
      { OPENCONVAI_BOOTSTRAP_KEY: apiKey },
    );
    const server = await startServer(config, pino({ level: "silent" }));
    try {
      const get = (path: string) => fetch(`${server.url}${path}`, { headers: { "xi-api-key": apiKey } });
      for (const tagId of tagIds) {
        const response = await get(`/v1/convai/tags/${encodeURIComponent(tagId)}`);
        expect(response.status, tagId).toBe(200);
        expect(((await response.json()) as { tag_id: string }).tag_id).toBe(tagId);
      }
      for (const [agentId, ids] of topicIds) {
        const response = await get(`/v1/convai/agents/${encodeURIComponent(agentId)}/topics?page_size=100`);
        expect(response.status, agentId).toBe(200);
        const report = (await response.json()) as { topics: { topic_id: string }[] };
        const defined = new Set(report.topics.map((t) => t.topic_id));
        for (const topicId of ids) expect(defined.has(topicId), `${agentId} ${topicId}`).toBe(true);
      }

      // Seeding twice made no second copy of anything: through the SDK, as a client sees it.
      const client = new ElevenLabsClient({ apiKey, baseUrl: server.url, maxRetries: 0 });
      const tags = await client.conversationalAi.conversations.tags.list({ pageSize: 100 });
      const listed = tags.conversationTags.map((t) => t.tagId).sort();
      expect(listed).toEqual([...new Set(listed)]);
      for (const tagId of tagIds) expect(listed).toContain(tagId);
      for (const [agentId, ids] of topicIds) {
        const report = await client.conversationalAi.conversations.topics.get(agentId);
        const reported = report.topics.map((t) => t.topicId);
        expect(reported, agentId).toEqual([...new Set(reported)]);
        for (const topicId of ids) expect(reported).toContain(topicId);
      }
    } finally {
      await server.stop();
    }
  });
});
