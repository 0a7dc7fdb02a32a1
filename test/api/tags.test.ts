import { ElevenLabs } from "@elevenlabs/elevenlabs-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

describe.each(BACKENDS)("conversation tags on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, [
      buildConversation({ id: "conv_t1", startTime: 1_700_000_300 }),
      buildConversation({ id: "conv_t2", startTime: 1_700_000_200, tagIds: ["tag_from_upstream"] }),
      buildConversation({ id: "conv_t3", startTime: 1_700_000_100 }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const tags = () => sdk.client.conversationalAi.conversations.tags;
  const idsWithTag = async (tagId: string) =>
    (await sdk.client.conversationalAi.conversations.list({ tagIds: [tagId] })).conversations.map(
      (c) => c.conversationId,
    );

  it("creates, gets, updates and lists tags in the SDK's shapes", async () => {
    const created = await tags().create({ title: "Escalated", description: "Needs a human" });
    expectWireModel("ConversationTagResponseModel", sdk.lastBody());
    expect(created).toMatchObject({
      title: "Escalated",
      description: "Needs a human",
      workspaceId: "default",
    });
    expect(created.tagId).toMatch(/^tag_/);
    expect(Math.abs(created.createdAtUnixSecs - Date.now() / 1000)).toBeLessThan(60);

    const fetched = await tags().get(created.tagId);
    expectWireModel("ConversationTagResponseModel", sdk.lastBody());
    expect(fetched).toEqual(created);

    // Omitted keys stay; a given one replaces; a null description clears it.
    const renamed = await tags().update(created.tagId, { title: "Escalated to human" });
    expect(renamed).toMatchObject({ title: "Escalated to human", description: "Needs a human" });
    const cleared = await server.fetch(`/v1/convai/tags/${created.tagId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ description: null, title: null }),
    });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toMatchObject({ title: "Escalated to human", description: null });

    await tags().delete(created.tagId);
    expect((await catchSdkError(() => tags().get(created.tagId))).statusCode).toBe(404);
  });

  it("lists tags newest first, a page at a time", async () => {
    const made: string[] = [];
    for (const title of ["a", "b", "c", "d", "e"]) made.push((await tags().create({ title })).tagId);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await tags().list({ pageSize: 2, cursor });
      expectWireModel("GetConversationTagsPageResponseModel", sdk.lastBody());
      seen.push(...page.conversationTags.map((t) => t.tagId));
      if (!page.hasMore) {
        expect(page.nextCursor ?? null).toBeNull();
        break;
      }
      cursor = page.nextCursor ?? undefined;
    }
    expect(seen).toEqual([...made].reverse());
    for (const id of made) await tags().delete(id);
    expect((await tags().list()).conversationTags).toEqual([]);
  });

  it("assigns and unassigns tags; GET and the tag filter follow", async () => {
    const vip = await tags().create({ title: "VIP" });
    const refund = await tags().create({ title: "Refund" });
    await tags().assign("conv_t1", { tagIds: [vip.tagId, refund.tagId] });
    // Already assigned: ignored.
    await tags().assign("conv_t1", { tagIds: [vip.tagId] });
    await tags().assign("conv_t2", { tagIds: [vip.tagId] });

    const conversation = await sdk.client.conversationalAi.conversations.get("conv_t1");
    expect(conversation.tagIds).toEqual([vip.tagId, refund.tagId]);
    expect((await sdk.client.conversationalAi.conversations.get("conv_t2")).tagIds).toEqual([
      "tag_from_upstream",
      vip.tagId,
    ]);
    expect(await idsWithTag(vip.tagId)).toEqual(["conv_t1", "conv_t2"]);
    expect(await idsWithTag(refund.tagId)).toEqual(["conv_t1"]);

    await tags().unassign("conv_t1", vip.tagId);
    expect((await sdk.client.conversationalAi.conversations.get("conv_t1")).tagIds).toEqual([refund.tagId]);
    expect(await idsWithTag(vip.tagId)).toEqual(["conv_t2"]);
    // Unassigning again is a no-op; so is unassigning a tag known only from an ingested document.
    await tags().unassign("conv_t1", vip.tagId);
    await tags().unassign("conv_t2", "tag_from_upstream");
    expect(await idsWithTag("tag_from_upstream")).toEqual([]);
  });

  it("deleting a tag unassigns it from every conversation", async () => {
    const gone = await tags().create({ title: "Short-lived" });
    const kept = await tags().create({ title: "Kept" });
    for (const id of ["conv_t1", "conv_t2", "conv_t3"]) {
      await tags().assign(id, { tagIds: [gone.tagId, kept.tagId] });
    }
    expect(await idsWithTag(gone.tagId)).toEqual(["conv_t1", "conv_t2", "conv_t3"]);
    await tags().delete(gone.tagId);
    expect(await idsWithTag(gone.tagId)).toEqual([]);
    expect(await idsWithTag(kept.tagId)).toEqual(["conv_t1", "conv_t2", "conv_t3"]);
    const body = (await server.fetch("/v1/convai/conversations/conv_t3").then((r) => r.json())) as {
      tag_ids: string[];
    };
    expect(body.tag_ids).not.toContain(gone.tagId);
    expect(body.tag_ids).toContain(kept.tagId);
  });

  it("answers upstream's error shapes and writes nothing on bad input", async () => {
    const tag = await tags().create({ title: "Errors" });
    const before = await server.fetch("/v1/convai/conversations/conv_t3").then((r) => r.json());

    const unknownTag = await catchSdkError(() =>
      tags().assign("conv_t3", { tagIds: [tag.tagId, "tag_nope"] }),
    );
    expect(unknownTag.statusCode).toBe(404);
    expect(unknownTag.body).toMatchObject({ detail: { status: "tag_not_found" } });
    expect(await server.fetch("/v1/convai/conversations/conv_t3").then((r) => r.json())).toEqual(before);

    const unknownConversation = await catchSdkError(() =>
      tags().assign("conv_nope", { tagIds: [tag.tagId] }),
    );
    expect(unknownConversation.statusCode).toBe(404);
    expect(unknownConversation.body).toMatchObject({ detail: { status: "conversation_not_found" } });

    for (const call of [
      () => tags().get("tag_nope"),
      () => tags().update("tag_nope", { title: "x" }),
      () => tags().delete("tag_nope"),
      () => tags().unassign("conv_t3", "tag_nope"),
    ]) {
      const error = await catchSdkError(call);
      expect(error.statusCode).toBe(404);
      expect(error.body).toMatchObject({ detail: { status: "tag_not_found" } });
    }

    const noTitle = await catchSdkError(() => tags().create({ title: "" }));
    expect(noTitle).toBeInstanceOf(ElevenLabs.UnprocessableEntityError);
    expect(noTitle.body).toMatchObject({ detail: [{ loc: ["body", "title"], type: "string_too_short" }] });
    expectWireModel("HttpValidationError", noTitle.body);

    const missing = await server.fetch("/v1/convai/tags", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toEqual({
      detail: [{ loc: ["body", "title"], msg: "Field required", type: "missing" }],
    });

    const tooMany = await server.fetch("/v1/convai/conversations/conv_t3/tags", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag_ids: Array.from({ length: 51 }, (_, i) => `t${i}`) }),
    });
    expect(tooMany.status).toBe(422);

    const badCursor = await catchSdkError(() => tags().list({ cursor: "nonsense" }));
    expect(badCursor.statusCode).toBe(422);
    expect((await catchSdkError(() => tags().list({ pageSize: 101 }))).statusCode).toBe(422);
    expect(await server.fetch("/v1/convai/conversations/conv_t3").then((r) => r.json())).toEqual(before);
  });
});
