import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody } from "../../src/ingest/webhook-signature.js";
import { buildConversation } from "../fixtures/conversations.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SECRET = "wsec_hostile_receiver_0123";
const WEBHOOK = "/ingest/v1/webhooks/elevenlabs";
const now = () => Math.floor(Date.now() / 1000);

/** Signed deliveries with a NUL where PostgreSQL text cannot hold one (finding 10). */
const NUL_DELIVERIES: [string, () => Buffer][] = [
  [
    "a NUL in type",
    () =>
      Buffer.from(
        JSON.stringify({ type: "post_call_transcription\u0000", data: buildConversation({ id: "nul_t" }) }),
      ),
  ],
  [
    "a NUL in a transcription's conversation_id",
    () =>
      Buffer.from(
        JSON.stringify({ type: "post_call_transcription", data: buildConversation({ id: "nul\u0000id_t" }) }),
      ),
  ],
  [
    "a NUL in an audio delivery's conversation_id",
    () =>
      Buffer.from(
        JSON.stringify({
          type: "post_call_audio",
          data: {
            agent_id: "agent_1",
            conversation_id: "nul\u0000id_a",
            full_audio: Buffer.from("abc").toString("base64"),
          },
        }),
      ),
  ],
  [
    "a NUL in a failure's conversation_id",
    () =>
      Buffer.from(
        JSON.stringify({
          type: "call_initiation_failure",
          data: { agent_id: "agent_1", conversation_id: "nul\u0000id_f", failure_reason: "busy" },
        }),
      ),
  ],
  [
    "a raw NUL byte in the body",
    () =>
      Buffer.concat([
        Buffer.from(
          JSON.stringify({ type: "post_call_transcription", data: buildConversation({ id: "nul_raw" }) }),
        ),
        Buffer.from([0]),
      ]),
  ],
  [
    "a raw NUL byte inside a string",
    () => Buffer.from(`{"type":"post_call_transcription","data":{"conversation_id":"raw\u0000id"}}`),
  ],
];

describe.each(BACKENDS)("hostile webhook deliveries on %s", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {
      OPENCONVAI_WEBHOOK_SECRETS: SECRET,
      OPENCONVAI_WEBHOOK_TOLERANCE_SECS: "600",
    });
  });
  afterAll(async () => server?.stop());

  const post = (body: Buffer) =>
    fetch(`${server.url}${WEBHOOK}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ElevenLabs-Signature": signWebhookBody(body.toString("utf8"), SECRET, now()),
      },
      body,
    });
  const db = () => server.server.services.db;

  it.each(NUL_DELIVERIES)(
    "keeps a delivery with %s as a dead letter, writing nothing else",
    async (_, build) => {
      const body = build();
      const conversationsBefore = await db().conversations.countConversations();
      const lettersBefore = (await db().webhooks.listDeadLetters(1000)).length;
      const response = await post(body);
      expect(response.status).toBe(200);
      const receipt = (await response.json()) as { status: string; conversation_id: unknown; reason: string };
      expect(receipt.status).toBe("dead_letter");
      expect(receipt.conversation_id).toBeNull();
      expect(await db().conversations.countConversations()).toBe(conversationsBefore);
      expect(await db().webhooks.listPendingAudio(1000)).toEqual([]);
      const letters = await db().webhooks.listDeadLetters(1000);
      expect(letters).toHaveLength(lettersBefore + 1);
      // Kept the same on both backends: the text as received, each NUL shown as U+FFFD.
      expect(letters.at(-1)?.body).toBe(body.toString("utf8").replaceAll("\u0000", "\uFFFD"));
      expect(letters.at(-1)?.type).not.toContain("\u0000");

      // A redelivery is recognised by its raw bytes and answered without a second letter.
      const again = await post(body);
      expect(again.status).toBe(200);
      expect((await db().webhooks.listDeadLetters(1000)).length).toBe(lettersBefore + 1);
    },
  );

  it("says how to fix an invalid conversation_id", async () => {
    const response = await post(NUL_DELIVERIES[1]?.[1]() ?? Buffer.alloc(0));
    const receipt = (await response.json()) as { status: string; reason?: string };
    // The same body again is a duplicate; the reason was given the first time, and is in the letter.
    const letters = await db().webhooks.listDeadLetters(1000);
    const letter = letters.find((l) => l.body.includes("nul\\u0000id_t"));
    expect(receipt.status).toBe("duplicate");
    expect(letter?.reason).toMatch(/conversation_id .*without NUL/);
  });
});
