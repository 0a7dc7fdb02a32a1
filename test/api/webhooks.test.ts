import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody } from "../../src/ingest/webhook-signature.js";
import { BACKENDS } from "../support/backends.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");
const EXAMPLE = readFileSync(path.join(FIXTURES, "post-call-transcription-webhook.json"), "utf8");
const OLD_SECRET = "wsec_old_0123456789";
const NEW_SECRET = "wsec_new_9876543210";
const WEBHOOK = "/ingest/v1/webhooks/elevenlabs";

const now = () => Math.floor(Date.now() / 1000);

/** A transcription webhook body for a fresh conversation id, from the documented example. */
function transcriptionBody(conversationId: string): string {
  const example = JSON.parse(EXAMPLE) as { data: Record<string, unknown> };
  example.data.conversation_id = conversationId;
  return JSON.stringify(example);
}

/** Posts a body with no API key, signed unless `signature` says otherwise. */
function post(
  server: TestServer,
  body: string,
  signature: string | null = signWebhookBody(body, NEW_SECRET, now()),
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["ElevenLabs-Signature"] = signature;
  return fetch(`${server.url}${WEBHOOK}`, { method: "POST", headers, body });
}

describe.each(BACKENDS)("ElevenLabs webhooks (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {
      OPENCONVAI_WEBHOOK_SECRETS: `${OLD_SECRET}, ${NEW_SECRET}`,
      OPENCONVAI_WEBHOOK_TOLERANCE_SECS: "600",
    });
  });
  afterAll(async () => server?.stop());

  const count = () => server.server.services.db.conversations.countConversations();

  it("stores a valid transcription, readable through the SDK, without an API key", async () => {
    const body = transcriptionBody("conv_wh_valid");
    const response = await post(server, body);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "stored",
      type: "post_call_transcription",
      conversation_id: "conv_wh_valid",
    });
    const conversation = await server.client.conversationalAi.conversations.get("conv_wh_valid");
    expect(conversation.agentId).toBe("xyz");
    expect(conversation.transcript).toHaveLength(3);
    expect(conversation.hasAudio).toBe(false);
  });

  it("refuses a wrong secret, a tampered body, stale and future timestamps and a missing header, writing nothing", async () => {
    const before = await count();
    const body = transcriptionBody("conv_wh_refused");
    const cases: [string, string, string | null][] = [
      ["wrong secret", body, signWebhookBody(body, "wsec_wrong", now())],
      ["tampered body", body.replace("Hey there", "Hey there!"), signWebhookBody(body, NEW_SECRET, now())],
      ["stale timestamp", body, signWebhookBody(body, NEW_SECRET, now() - 601)],
      // Well past the tolerance (600 s): the cases before it may take seconds on a busy machine.
      ["future timestamp", body, signWebhookBody(body, NEW_SECRET, now() + 700)],
      ["missing header", body, null],
      ["malformed header", body, "v0=abc"],
      [
        "uppercase digest",
        body,
        signWebhookBody(body, NEW_SECRET, now()).toUpperCase().replace("T=", "t=").replace("V0=", "v0="),
      ],
    ];
    for (const [name, sent, signature] of cases) {
      const response = await post(server, sent, signature);
      expect(response.status, name).toBe(401);
      const error = (await response.json()) as { detail: { status: string; message: string } };
      expect(error.detail.status, name).toBe("invalid_signature");
      expect(typeof error.detail.message, name).toBe("string");
    }
    expect(await count()).toBe(before);
    expect(await server.server.services.db.conversations.getConversation("conv_wh_refused")).toBeUndefined();
  });

  it("accepts a timestamp inside the tolerance, either way", async () => {
    const body = transcriptionBody("conv_wh_skew");
    expect((await post(server, body, signWebhookBody(body, NEW_SECRET, now() - 590))).status).toBe(200);
    const body2 = transcriptionBody("conv_wh_skew2");
    expect((await post(server, body2, signWebhookBody(body2, NEW_SECRET, now() + 590))).status).toBe(200);
  });

  it("accepts either secret during a rotation, and a header listing several signatures", async () => {
    const body = transcriptionBody("conv_wh_rotated");
    const t = now();
    expect((await post(server, body, signWebhookBody(body, OLD_SECRET, t))).status).toBe(200);
    const body2 = transcriptionBody("conv_wh_rotated2");
    const both = `${signWebhookBody(body2, "wsec_other", t)},${signWebhookBody(body2, OLD_SECRET, t).split(",")[1]}`;
    expect((await post(server, body2, both)).status).toBe(200);
    expect(await server.server.services.db.conversations.getConversation("conv_wh_rotated2")).toBeDefined();
  });

  it("answers a redelivery without applying it twice", async () => {
    const body = transcriptionBody("conv_wh_redelivered");
    expect((await post(server, body, signWebhookBody(body, NEW_SECRET, now() - 5))).status).toBe(200);
    const before = await count();
    const again = await post(server, body, signWebhookBody(body, NEW_SECRET, now()));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({
      status: "duplicate",
      type: "post_call_transcription",
      conversation_id: "conv_wh_redelivered",
    });
    expect(await count()).toBe(before);
  });

  it("keeps audio that comes before its transcription, and attaches it when the transcription arrives", async () => {
    const mp3 = Buffer.from([0xff, 0xfb, 0x90, 0x64, ...Array.from({ length: 3000 }, (_, i) => i % 251)]);
    const audioBody = JSON.stringify({
      type: "post_call_audio",
      event_timestamp: now(),
      data: { agent_id: "xyz", conversation_id: "conv_wh_audio_first", full_audio: mp3.toString("base64") },
    });
    const early = await post(server, audioBody);
    expect(early.status).toBe(200);
    expect(((await early.json()) as { status: string }).status).toBe("audio_pending");
    expect(
      await server.server.services.db.conversations.getConversation("conv_wh_audio_first"),
    ).toBeUndefined();
    const pending = await server.server.services.db.webhooks.listPendingAudio(10);
    expect(pending.map((p) => p.conversationId)).toContain("conv_wh_audio_first");

    expect((await post(server, transcriptionBody("conv_wh_audio_first"))).status).toBe(200);
    const conversation = await server.client.conversationalAi.conversations.get("conv_wh_audio_first");
    expect(conversation.hasAudio).toBe(true);
    const audio = await server.fetch("/v1/convai/conversations/conv_wh_audio_first/audio");
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toBe("audio/mpeg");
    expect(Buffer.from(await audio.arrayBuffer()).equals(mp3)).toBe(true);
    const left = await server.server.services.db.webhooks.listPendingAudio(10);
    expect(left.map((p) => p.conversationId)).not.toContain("conv_wh_audio_first");
  });

  it("stores audio for a conversation that is already here", async () => {
    expect((await post(server, transcriptionBody("conv_wh_audio_after"))).status).toBe(200);
    const mp3 = Buffer.from("ID3 not really an mp3 but bytes all the same");
    const body = JSON.stringify({
      type: "post_call_audio",
      event_timestamp: now(),
      data: { agent_id: "xyz", conversation_id: "conv_wh_audio_after", full_audio: mp3.toString("base64") },
    });
    const response = await post(server, body);
    expect(((await response.json()) as { status: string }).status).toBe("stored");
    const audio = await server.fetch("/v1/convai/conversations/conv_wh_audio_after/audio");
    expect(Buffer.from(await audio.arrayBuffer()).equals(mp3)).toBe(true);
  });

  it("stores a call initiation failure as a failed conversation", async () => {
    const body = JSON.stringify({
      type: "call_initiation_failure",
      event_timestamp: 1_739_537_300,
      data: {
        agent_id: "agent_outbound",
        conversation_id: "conv_wh_failed",
        failure_reason: "busy",
        metadata: { type: "twilio", body: { CallSid: "CA123", CallStatus: "busy" } },
      },
    });
    expect((await post(server, body)).status).toBe(200);
    const conversation = await server.client.conversationalAi.conversations.get("conv_wh_failed");
    expect(conversation.status).toBe("failed");
    expect(conversation.agentId).toBe("agent_outbound");
    expect(conversation.metadata.startTimeUnixSecs).toBe(1_739_537_300);
    const raw = (await (await server.fetch("/v1/convai/conversations/conv_wh_failed")).json()) as {
      metadata: Record<string, unknown>;
    };
    expect(raw.metadata.call_initiation_failure).toEqual({
      failure_reason: "busy",
      metadata: { type: "twilio", body: { CallSid: "CA123", CallStatus: "busy" } },
    });
    const page = await server.client.conversationalAi.conversations.list({ agentId: "agent_outbound" });
    expect(page.conversations.map((c) => c.status)).toEqual(["failed"]);
  });

  it("keeps unknown event types and invalid payloads as dead letters, once", async () => {
    const unknown = JSON.stringify({
      type: "answering_machine_detection",
      event_timestamp: now(),
      data: { x: 1 },
    });
    const invalid = JSON.stringify({
      type: "post_call_transcription",
      event_timestamp: now(),
      data: { conversation_id: "conv_wh_invalid", agent_id: "xyz" },
    });
    for (const body of [unknown, invalid, unknown]) {
      const response = await post(server, body);
      expect(response.status).toBe(200);
    }
    const letters = await server.server.services.db.webhooks.listDeadLetters(100);
    expect(letters.map((l) => l.type)).toEqual(["answering_machine_detection", "post_call_transcription"]);
    expect(letters[0]?.body).toBe(unknown);
    expect(letters[1]?.reason).toMatch(/status: Field required/);
    expect(await server.server.services.db.conversations.getConversation("conv_wh_invalid")).toBeUndefined();
  });
});

describe("ElevenLabs webhooks without secrets", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite");
  });
  afterAll(async () => server?.stop());

  it("answers 503 saying how to configure them", async () => {
    const body = transcriptionBody("conv_wh_unconfigured");
    const response = await post(server, body);
    expect(response.status).toBe(503);
    const error = (await response.json()) as { detail: { status: string; message: string } };
    expect(error.detail.status).toBe("webhooks_not_configured");
    expect(error.detail.message).toMatch(/OPENCONVAI_WEBHOOK_SECRETS/);
  });

  it("still needs an API key everywhere else", async () => {
    const response = await fetch(`${server.url}/ingest/v1/webhooks/elevenlabsX`, { method: "POST" });
    expect(response.status).toBe(401);
  });
});

describe("ElevenLabs webhooks with small limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      OPENCONVAI_WEBHOOK_SECRETS: NEW_SECRET,
      OPENCONVAI_MAX_JSON_BYTES: "1024",
      OPENCONVAI_MAX_AUDIO_BYTES: "1024",
    });
  });
  afterAll(async () => server?.stop());

  it("refuses a body over its limit (4/3 of the audio limit plus the JSON limit) with a 413", async () => {
    const body = JSON.stringify({ type: "post_call_audio", data: { full_audio: "A".repeat(3000) } });
    const response = await post(server, body);
    expect(response.status).toBe(413);
    const error = (await response.json()) as { detail: { status: string; message: string } };
    expect(error.detail).toEqual({
      status: "payload_too_large",
      message:
        "The webhook body is larger than the limit of 2390 bytes. Send a smaller one (docs/operations.md lists the limits).",
    });
  });
});
