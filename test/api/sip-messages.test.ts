import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { catchSdkError } from "../support/catch-sdk-error.js";
import { putConversations } from "../support/put-conversations.js";
import { createRecordingClient, type RecordingClient } from "../support/recording-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { expectWireModel } from "../support/wire-schemas.js";

/** A SipLogMessage in the wire shape. */
function sipMessage(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    call_id: "call-1@sip.example.com",
    phone_numbers: ["+14155550100", "+14155550199"],
    local_address: "10.0.0.1:5060",
    remote_address: "203.0.113.7:5060",
    transport: "udp",
    raw_message: `INVITE sip:agent@sip.example.com SIP/2.0\r\nCSeq: ${n} INVITE\r\n\r\n`,
    error_message: "",
    direction: n % 2 === 0 ? "in" : "out",
    created_at_unix_micro: 1_700_000_000_000_000 + n * 1000,
    ...extra,
  };
}

describe.each(BACKENDS)("SIP messages on %s", (backend) => {
  let server: TestServer;
  let sdk: RecordingClient;

  beforeAll(async () => {
    server = await startTestServer(backend);
    sdk = createRecordingClient(server);
    await putConversations(server, [
      buildConversation({ id: "conv_sip" }),
      buildConversation({ id: "conv_quiet" }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const putSip = (id: string, body: unknown) =>
    server.fetch(`/ingest/v1/conversations/${id}/sip-messages`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("serves the log put through ingest, in time order, a page at a time", async () => {
    // Sent out of order, with a key the model does not know (kept).
    const messages = [
      sipMessage(2),
      sipMessage(0, { x_vendor: "kept" }),
      sipMessage(1),
      sipMessage(3),
      sipMessage(4),
    ];
    const put = await putSip("conv_sip", messages);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ conversation_id: "conv_sip", sip_message_count: 5 });

    const first = await sdk.client.conversationalAi.conversations.getSipMessages("conv_sip", { pageSize: 2 });
    expectWireModel("GetSipLogMessagesResponse", sdk.lastBody());
    expect(first.sipMessages.map((m) => m.createdAtUnixMicro)).toEqual([
      1_700_000_000_000_000, 1_700_000_000_001_000,
    ]);
    expect(first.sipMessages[0]?.direction).toBe("in");
    expect(first.sipMessages[0]?.phoneNumbers).toEqual(["+14155550100", "+14155550199"]);
    expect((sdk.lastBody() as { sip_messages: unknown[] }).sip_messages[0]).toEqual(
      sipMessage(0, { x_vendor: "kept" }),
    );
    expect(first.hasMore).toBe(true);

    const seen = [...first.sipMessages];
    let cursor = first.nextCursor ?? undefined;
    while (cursor) {
      const page = await sdk.client.conversationalAi.conversations.getSipMessages("conv_sip", {
        pageSize: 2,
        cursor,
      });
      expectWireModel("GetSipLogMessagesResponse", sdk.lastBody());
      seen.push(...page.sipMessages);
      cursor = page.hasMore ? (page.nextCursor ?? undefined) : undefined;
    }
    expect(seen.map((m) => m.rawMessage)).toEqual([0, 1, 2, 3, 4].map((n) => sipMessage(n).raw_message));

    // PUT replaces the log.
    expect((await putSip("conv_sip", [sipMessage(9)])).status).toBe(200);
    const replaced = await sdk.client.conversationalAi.conversations.getSipMessages("conv_sip");
    expect(replaced.sipMessages.map((m) => m.createdAtUnixMicro)).toEqual([1_700_000_000_009_000]);
    expect(replaced.hasMore).toBe(false);
  });

  it("answers an empty page for a conversation without SIP messages", async () => {
    const page = await sdk.client.conversationalAi.conversations.getSipMessages("conv_quiet");
    expectWireModel("GetSipLogMessagesResponse", sdk.lastBody());
    expect(page.sipMessages).toEqual([]);
    expect(page.hasMore).toBe(false);
  });

  it("answers 404 for unknown conversations, 422 for bad input, and keeps the log on a bad PUT", async () => {
    const unknown = await catchSdkError(() =>
      sdk.client.conversationalAi.conversations.getSipMessages("conv_nope"),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toMatchObject({ detail: { status: "conversation_not_found" } });
    const unknownPut = await putSip("conv_nope", [sipMessage(0)]);
    expect(unknownPut.status).toBe(404);

    const missing = { ...sipMessage(1) };
    delete missing.call_id;
    const bad = await putSip("conv_sip", [sipMessage(0), missing]);
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({
      detail: [{ loc: ["body", 1, "call_id"], msg: "Field required", type: "missing" }],
    });
    const wrongType = await putSip("conv_sip", [sipMessage(0, { created_at_unix_micro: "soon" })]);
    expect(wrongType.status).toBe(422);
    const tooLong = await putSip("conv_sip", [sipMessage(0, { raw_message: "x".repeat(65_537) })]);
    expect(tooLong.status).toBe(422);
    const page = await sdk.client.conversationalAi.conversations.getSipMessages("conv_sip");
    expect(page.sipMessages.map((m) => m.createdAtUnixMicro)).toEqual([1_700_000_000_009_000]);

    expect(
      (
        await catchSdkError(() =>
          sdk.client.conversationalAi.conversations.getSipMessages("conv_sip", { cursor: "x" }),
        )
      ).statusCode,
    ).toBe(422);
    expect(
      (
        await catchSdkError(() =>
          sdk.client.conversationalAi.conversations.getSipMessages("conv_sip", { pageSize: 1001 }),
        )
      ).statusCode,
    ).toBe(422);
  });

  it("deletes the log with its conversation", async () => {
    expect((await putSip("conv_quiet", [sipMessage(0)])).status).toBe(200);
    await sdk.client.conversationalAi.conversations.delete("conv_quiet");
    await putConversations(server, [buildConversation({ id: "conv_quiet" })]);
    const page = await sdk.client.conversationalAi.conversations.getSipMessages("conv_quiet");
    expect(page.sipMessages).toEqual([]);
  });
});
