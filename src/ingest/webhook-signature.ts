import { createHmac, type Hmac, timingSafeEqual } from "node:crypto";

/** Why a signature was refused (the reason is safe to send back to the caller). */
export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Settings of the signature check. */
export interface SignatureSettings {
  /** Accepted secrets: during a rotation, the old and the new one. */
  secrets: readonly string[];
  /** How far the signed timestamp may be from now, either way, in seconds. */
  toleranceSecs: number;
}

/** A well-formed `ElevenLabs-Signature` header with its timestamp inside the tolerance. */
export interface SignatureHeader {
  /** The signed timestamp, exactly as sent (it is part of the signed text). */
  t: string;
  /** The `v0=` digests as sent (any one may match). */
  digests: readonly string[];
}

/** Computes `ElevenLabs-Signature` for a body: `t=<unix secs>,v0=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signWebhookBody(rawBody: Buffer | string, secret: string, t: number): string {
  const mac = createHmac("sha256", secret).update(`${t}.`, "utf8").update(rawBody).digest("hex");
  return `t=${t},v0=${mac}`;
}

/**
 * Checks what can be checked without the body: the header is there, well formed, and its
 * timestamp is inside the tolerance. Unlike the SDK's verifier, timestamps too far in the future
 * are refused as well as stale ones. The server answers a refusal before reading the body.
 */
export function parseSignatureHeader(
  header: string | undefined,
  settings: SignatureSettings,
  nowUnixSecs: number = Math.floor(Date.now() / 1000),
): { ok: true; header: SignatureHeader } | { ok: false; reason: string } {
  if (header === undefined || header.trim() === "") {
    return { ok: false, reason: "Missing ElevenLabs-Signature header." };
  }
  const parts = header.split(",").map((p) => p.trim());
  const t = parts.find((p) => p.startsWith("t="))?.slice(2);
  const digests = parts.filter((p) => p.startsWith("v0=")).map((p) => p.slice(3));
  // A header is short; a long one is not a signature, and must not cost a comparison per part.
  if (header.length > 4096 || t === undefined || !/^\d{1,12}$/.test(t) || digests.length === 0) {
    return {
      ok: false,
      reason: "Malformed ElevenLabs-Signature header: expected t=<unix seconds>,v0=<hex digest>.",
    };
  }
  const timestamp = Number(t);
  if (nowUnixSecs - timestamp > settings.toleranceSecs) {
    return { ok: false, reason: "The signature timestamp is outside the tolerance (too old)." };
  }
  if (timestamp - nowUnixSecs > settings.toleranceSecs) {
    return { ok: false, reason: "The signature timestamp is outside the tolerance (in the future)." };
  }
  return { ok: true, header: { t, digests } };
}

/**
 * Verifies a body as it streams past: feed every chunk to `update`, then ask `check`. No chunk is
 * kept, so a body of any size is checked in constant memory.
 */
export class StreamingSignatureVerifier {
  private readonly macs: Hmac[];

  constructor(
    private readonly header: SignatureHeader,
    secrets: readonly string[],
  ) {
    this.macs = secrets.map((secret) => createHmac("sha256", secret).update(`${header.t}.`, "utf8"));
  }

  /** Adds the next chunk of the body. */
  update(chunk: Buffer): void {
    for (const mac of this.macs) mac.update(chunk);
  }

  /** Whether any configured secret signed the body; call once, after the last chunk. */
  check(): SignatureCheck {
    const given = this.header.digests.map((s) => Buffer.from(s, "utf8"));
    let matched = false;
    for (const mac of this.macs) {
      const expected = Buffer.from(mac.digest("hex"), "utf8");
      for (const candidate of given) {
        // Every pair is compared (no early exit), so timing says nothing about which secret matched.
        if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
      }
    }
    return matched ? { ok: true } : { ok: false, reason: "The webhook signature does not match." };
  }
}

/**
 * Checks an `ElevenLabs-Signature` header against the raw body bytes and every configured secret,
 * comparing digests in constant time.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  settings: SignatureSettings,
  nowUnixSecs: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const parsed = parseSignatureHeader(header, settings, nowUnixSecs);
  if (!parsed.ok) return parsed;
  const verifier = new StreamingSignatureVerifier(parsed.header, settings.secrets);
  verifier.update(rawBody);
  return verifier.check();
}
