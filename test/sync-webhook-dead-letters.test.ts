import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookBody } from "../src/ingest/webhook-signature.js";
import { BACKENDS } from "./support/backends.js";
import { runCli } from "./support/run-cli.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const SECRET = "wsec_dead_letters_0123";
const WEBHOOK = "/ingest/v1/webhooks/elevenlabs";
const now = () => Math.floor(Date.now() / 1000);

/** Deliveries that become dead letters, and the conversation id each letter should name. */
const DELIVERIES: [string, string, string | null][] = [
  [
    "an unknown event type",
    JSON.stringify({ type: "answering_machine_detection", data: { conversation_id: "conv_dl_unknown" } }),
    "conv_dl_unknown",
  ],
  [
    "an invalid transcription",
    JSON.stringify({
      type: "post_call_transcription",
      data: { conversation_id: "conv_dl_invalid", agent_id: "a" },
    }),
    "conv_dl_invalid",
  ],
  [
    "an audio delivery without audio",
    JSON.stringify({ type: "post_call_audio", data: { conversation_id: "conv_dl_audio", agent_id: "a" } }),
    "conv_dl_audio",
  ],
  ["no conversation id", JSON.stringify({ type: "post_call_transcription", data: { agent_id: "a" } }), null],
  [
    "a conversation id that cannot be stored",
    JSON.stringify({ type: "post_call_transcription", data: { conversation_id: "nul\u0000id" } }),
    null,
  ],
  ["no data", JSON.stringify({ type: "post_call_transcription" }), null],
];

describe.each(BACKENDS)("webhook dead letters name their conversation (%s)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {
      OPENCONVAI_WEBHOOK_SECRETS: SECRET,
      OPENCONVAI_WEBHOOK_TOLERANCE_SECS: "600",
    });
    for (const [, body] of DELIVERIES) {
      const response = await fetch(`${server.url}${WEBHOOK}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "ElevenLabs-Signature": signWebhookBody(body, SECRET, now()),
        },
        body,
      });
      expect(((await response.json()) as { status: string }).status).toBe("dead_letter");
    }
  });
  afterAll(async () => server?.stop());

  it("keeps data.conversation_id with each dead letter", async () => {
    const letters = await server.server.services.db.webhooks.listDeadLetters(100);
    expect(letters.map((l) => l.conversationId ?? null)).toEqual(DELIVERIES.map(([, , id]) => id));
  });

  it("`openconvai webhooks failed --json` shows it", async () => {
    const env: Record<string, string> = { OPENCONVAI_DATA: server.storage.dataDir };
    if (server.storage.databaseUrl) env.DATABASE_URL = server.storage.databaseUrl;
    const run = await runCli(["webhooks", "failed", "--json"], { env });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { conversation_id: unknown; body: string });
    expect(lines.map((l) => l.conversation_id)).toEqual(DELIVERIES.map(([, , id]) => id));
    expect(lines[0]?.body).toBe(DELIVERIES[0]?.[1]);
  });

  it("a redelivery is answered as a duplicate that stored nothing", async () => {
    const body = DELIVERIES[0]?.[1] ?? "";
    const response = await fetch(`${server.url}${WEBHOOK}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ElevenLabs-Signature": signWebhookBody(body, SECRET, now()),
      },
      body,
    });
    expect(await response.json()).toEqual({
      status: "duplicate",
      type: "answering_machine_detection",
      conversation_id: null,
    });
  });
});
