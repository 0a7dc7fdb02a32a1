import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/store.js";
import { BACKENDS, createTestStorage, type TestStorage } from "../support/backends.js";

describe.each(BACKENDS)("live session store (%s)", (backend) => {
  let storage: TestStorage;
  /** Two connections to one database: two nodes of one deployment. */
  let nodeA: Database;
  let nodeB: Database;

  beforeAll(async () => {
    storage = createTestStorage(backend);
    nodeA = await storage.open();
    nodeB = await storage.open();
  });
  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
    await storage?.cleanup();
  });

  it("lists a node's sessions, oldest first, and only that node's, whichever connection asks", async () => {
    await nodeA.liveSessions.register("conv_a2", "node-a", 2_000);
    await nodeA.liveSessions.register("conv_a1", "node-a", 1_000);
    await nodeB.liveSessions.register("conv_b1", "node-b", 1_500);
    await nodeA.liveSessions.register("conv_a0", "node-a", 2_000);

    const expected = [
      { conversationId: "conv_a1", nodeId: "node-a", startedAtMs: 1_000 },
      { conversationId: "conv_a0", nodeId: "node-a", startedAtMs: 2_000 },
      { conversationId: "conv_a2", nodeId: "node-a", startedAtMs: 2_000 },
    ];
    expect(await nodeA.liveSessions.listByNode("node-a")).toEqual(expected);
    expect(await nodeB.liveSessions.listByNode("node-a")).toEqual(expected);
    expect(await nodeA.liveSessions.listByNode("node-b")).toEqual([
      { conversationId: "conv_b1", nodeId: "node-b", startedAtMs: 1_500 },
    ]);
    expect(await nodeA.liveSessions.listByNode("node-c")).toEqual([]);
  });

  it("unregisters one session, and unregistering an unknown one changes nothing", async () => {
    await nodeA.liveSessions.register("conv_u1", "node-u", 1);
    await nodeA.liveSessions.register("conv_u2", "node-u", 2);
    await nodeB.liveSessions.unregister("conv_u1");
    await nodeB.liveSessions.unregister("conv_never_registered");
    expect(await nodeA.liveSessions.listByNode("node-u")).toEqual([
      { conversationId: "conv_u2", nodeId: "node-u", startedAtMs: 2 },
    ]);
  });

  it("moves a conversation registered again to the node that registered it last", async () => {
    await nodeA.liveSessions.register("conv_moved", "node-m1", 10);
    await nodeB.liveSessions.register("conv_moved", "node-m2", 20);
    expect(await nodeA.liveSessions.listByNode("node-m1")).toEqual([]);
    expect(await nodeA.liveSessions.listByNode("node-m2")).toEqual([
      { conversationId: "conv_moved", nodeId: "node-m2", startedAtMs: 20 },
    ]);
  });

  it("keeps millisecond start times beyond 2^32 as they were given", async () => {
    const startedAtMs = Date.parse("2026-06-01T10:20:30.456Z");
    await nodeA.liveSessions.register("conv_time", "node-t", startedAtMs);
    expect((await nodeB.liveSessions.listByNode("node-t"))[0]?.startedAtMs).toBe(startedAtMs);
  });
});
