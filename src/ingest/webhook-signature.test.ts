import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { describe, expect, it } from "vitest";
import {
  parseSignatureHeader,
  StreamingSignatureVerifier,
  signWebhookBody,
  verifyWebhookSignature,
} from "./webhook-signature.js";

const settings = { secrets: ["wsec_a", "wsec_b"], toleranceSecs: 1800 };
const body = Buffer.from('{"type":"post_call_transcription","data":{"message":"¿qué tal? 日本語"}}');
const now = 1_760_000_000;

describe("webhook signatures", () => {
  it("signs the way the official SDK verifies", async () => {
    const client = new ElevenLabsClient({ apiKey: "unused" });
    const t = Math.floor(Date.now() / 1000);
    const event = await client.webhooks.constructEvent(
      body.toString("utf8"),
      signWebhookBody(body, "wsec_a", t),
      "wsec_a",
    );
    expect(event).toEqual(JSON.parse(body.toString("utf8")));
  });

  it("accepts any configured secret, and the parts in either order", () => {
    expect(verifyWebhookSignature(body, signWebhookBody(body, "wsec_b", now), settings, now)).toEqual({
      ok: true,
    });
    const [t, v0] = signWebhookBody(body, "wsec_a", now).split(",");
    expect(verifyWebhookSignature(body, `${v0},${t}`, settings, now)).toEqual({ ok: true });
  });

  it("refuses what does not match, is out of tolerance or is malformed", () => {
    const accepted = (header: string | undefined, at = now) =>
      verifyWebhookSignature(body, header, settings, at).ok;
    expect(accepted(signWebhookBody(body, "wsec_c", now))).toBe(false);
    expect(accepted(signWebhookBody(Buffer.concat([body, Buffer.from(" ")]), "wsec_a", now))).toBe(false);
    expect(accepted(signWebhookBody(body, "wsec_a", now - 1801))).toBe(false);
    expect(accepted(signWebhookBody(body, "wsec_a", now + 1801))).toBe(false);
    expect(accepted(signWebhookBody(body, "wsec_a", now - 1800))).toBe(true);
    expect(accepted(undefined)).toBe(false);
    expect(accepted("t=abc,v0=00")).toBe(false);
    expect(accepted(`t=${now}`)).toBe(false);
    expect(accepted(`t=${now},v0=${"0".repeat(64)}`)).toBe(false);
  });
});

describe("streaming signature verification", () => {
  it("gives the same answer chunk by chunk as for the whole body", () => {
    const header = signWebhookBody(body, "wsec_b", now);
    const parsed = parseSignatureHeader(header, settings, now);
    if (!parsed.ok) throw new Error(parsed.reason);
    const verifier = new StreamingSignatureVerifier(parsed.header, settings.secrets);
    for (let i = 0; i < body.length; i += 7) verifier.update(body.subarray(i, i + 7));
    expect(verifier.check()).toEqual({ ok: true });

    const tampered = new StreamingSignatureVerifier(parsed.header, settings.secrets);
    tampered.update(body.subarray(0, 10));
    expect(tampered.check().ok).toBe(false);
  });

  it("refuses a missing, malformed or out-of-tolerance header without the body", () => {
    expect(parseSignatureHeader(undefined, settings, now).ok).toBe(false);
    expect(parseSignatureHeader("v0=abc", settings, now).ok).toBe(false);
    expect(parseSignatureHeader(`t=${now},v0=${"a".repeat(5000)}`, settings, now).ok).toBe(false);
    expect(parseSignatureHeader(`t=${now - 1801},v0=00`, settings, now).ok).toBe(false);
    expect(parseSignatureHeader(`t=${now + 1801},v0=00`, settings, now).ok).toBe(false);
    expect(parseSignatureHeader(`t=${now},v0=00`, settings, now)).toEqual({
      ok: true,
      header: { t: String(now), digests: ["00"] },
    });
  });
});
