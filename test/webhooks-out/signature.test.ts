/**
 * The `ElevenLabs-Signature` of outgoing webhooks: what is signed is what the official SDK's
 * verifier accepts, whether the body is signed whole or in pieces, and a change to the body, the
 * secret or the timestamp's text breaks it.
 */
import { createHmac } from "node:crypto";
import { ElevenLabsClient } from "@elevenlabs/elevenlabs-js";
import { describe, expect, it } from "vitest";
import { signatureHeader, signatureHeaderOfStream } from "../../src/webhooks-out/signature.js";

const client = new ElevenLabsClient({ apiKey: "x" });
const secret = "wsec_0123456789abcdef";
const body =
  '{"type":"post_call_transcription","event_timestamp":1760000000,"data":{"message":"¿qué tal? 日本語 🎧"}}';

/** The body's bytes cut into pieces, some inside a multi-byte character. */
function pieces(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function* streamOf(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

describe("outgoing webhook signatures", () => {
  it("are accepted by the SDK's constructEvent, which hands back the parsed body", async () => {
    const t = Math.floor(Date.now() / 1000);
    const header = signatureHeader(t, secret, [body]);
    expect(header).toMatch(new RegExp(`^t=${t},v0=[0-9a-f]{64}$`));
    expect(await client.webhooks.constructEvent(body, header, secret)).toEqual(JSON.parse(body));
  });

  it("are the HMAC-SHA256 of `<t>.<body>` over the exact bytes, however the body is cut", async () => {
    const t = 1_760_000_123;
    const expected = `t=${t},v0=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
    expect(signatureHeader(t, secret, [body])).toBe(expected);
    expect(signatureHeader(t, secret, pieces(body, 7))).toBe(expected);
    expect(signatureHeader(t, secret, pieces(body, 1))).toBe(expected);
    expect(await signatureHeaderOfStream(t, secret, streamOf(pieces(body, 5)))).toBe(expected);
  });

  it("signed in pieces from a stream, still verify with the SDK", async () => {
    const t = Math.floor(Date.now() / 1000);
    const header = await signatureHeaderOfStream(t, secret, streamOf(pieces(body, 3)));
    expect(await client.webhooks.constructEvent(body, header, secret)).toEqual(JSON.parse(body));
  });

  it("do not verify for another body, another secret, or another timestamp", async () => {
    const t = Math.floor(Date.now() / 1000);
    const header = signatureHeader(t, secret, [body]);
    await expect(client.webhooks.constructEvent(`${body} `, header, secret)).rejects.toThrow(/signature/i);
    await expect(client.webhooks.constructEvent(body, header, `${secret}x`)).rejects.toThrow(/signature/i);
    const otherT = header.replace(`t=${t}`, `t=${t + 1}`);
    await expect(client.webhooks.constructEvent(body, otherT, secret)).rejects.toThrow(/signature/i);
  });
});
