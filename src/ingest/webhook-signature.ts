import { createHmac, timingSafeEqual } from "node:crypto";

/** Why a signature was refused (the reason is safe to send back to the caller). */
export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Settings of the signature check. */
export interface SignatureSettings {
  /** Accepted secrets: during a rotation, the old and the new one. */
  secrets: readonly string[];
  /** How far the signed timestamp may be from now, either way, in seconds. */
  toleranceSecs: number;
}

/** Computes `ElevenLabs-Signature` for a body: `t=<unix secs>,v0=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signWebhookBody(rawBody: Buffer | string, secret: string, t: number): string {
  const mac = createHmac("sha256", secret).update(`${t}.`, "utf8").update(rawBody).digest("hex");
  return `t=${t},v0=${mac}`;
}

/**
 * Checks an `ElevenLabs-Signature` header against the raw body bytes and every configured secret,
 * comparing digests in constant time. Unlike the SDK's verifier, timestamps too far in the future
 * are refused as well as stale ones.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  settings: SignatureSettings,
  nowUnixSecs: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (header === undefined || header.trim() === "") {
    return { ok: false, reason: "Missing ElevenLabs-Signature header." };
  }
  const parts = header.split(",").map((p) => p.trim());
  const t = parts.find((p) => p.startsWith("t="))?.slice(2);
  const signatures = parts.filter((p) => p.startsWith("v0=")).map((p) => p.slice(3));
  if (t === undefined || !/^\d{1,12}$/.test(t) || signatures.length === 0) {
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
  const given = signatures.map((s) => Buffer.from(s, "utf8"));
  let matched = false;
  for (const secret of settings.secrets) {
    const expected = Buffer.from(
      createHmac("sha256", secret).update(`${t}.`, "utf8").update(rawBody).digest("hex"),
      "utf8",
    );
    for (const candidate of given) {
      // Every pair is compared (no early exit), so timing says nothing about which secret matched.
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: "The webhook signature does not match." };
}
