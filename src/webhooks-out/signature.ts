import { createHmac, type Hmac } from "node:crypto";

/** A piece of a request body: bytes, or text sent as UTF-8. */
export type BodyChunk = Uint8Array | string;

/** The HMAC over `"<t>."`, ready for the body's bytes. */
function startSignature(t: number, secret: string): Hmac {
  return createHmac("sha256", secret).update(`${t}.`, "utf8");
}

/** The header value once the body has gone through the HMAC. */
function finishSignature(t: number, mac: Hmac): string {
  return `t=${t},v0=${mac.digest("hex")}`;
}

/**
 * The `ElevenLabs-Signature` header of a body: `t=<t>,v0=<lowercase hex HMAC-SHA256 of "<t>.<body>">`
 * keyed with the webhook's secret, over the body's exact bytes given in pieces (their concatenation
 * is what is sent).
 */
export function signatureHeader(t: number, secret: string, chunks: Iterable<BodyChunk>): string {
  const mac = startSignature(t, secret);
  for (const chunk of chunks) mac.update(chunk);
  return finishSignature(t, mac);
}

/**
 * `signatureHeader` over a streamed body: the pieces are hashed as they arrive, so a body too big
 * to hold (an audio delivery) is signed in one pass before it is sent in another.
 */
export async function signatureHeaderOfStream(
  t: number,
  secret: string,
  chunks: AsyncIterable<BodyChunk>,
): Promise<string> {
  const mac = startSignature(t, secret);
  for await (const chunk of chunks) mac.update(chunk);
  return finishSignature(t, mac);
}
