/**
 * The `conversation_signature` of signed conversation URLs: an HMAC over a small payload (the
 * agent, the expiry, a nonce and, when single-use, the conversation id), not over the URL, so the
 * parameters clients append (`source`, `version`, `environment`) do not break it. The key lives in
 * the database, so every node of a deployment accepts every node's signatures; single-use ones are
 * spent in the database too, so a second use is refused whichever node sees it.
 *
 * A signature reads `<payload>.<mac>`: the payload is base64url JSON `{"v":1,"a":agent,"e":expiry
 * (unix secs),"n":nonce,"c"?:conversation id}`, the mac base64url HMAC-SHA256 of the payload text.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { ConversationSignatureStore } from "../store/conversation-signature-store.js";

/** How long a signed URL can start a conversation: 15 minutes, as upstream's. */
export const SIGNATURE_LIFETIME_SECS = 15 * 60;

/** The longest signature the check reads (an agent id is at most 512 characters). */
const MAX_SIGNATURE_LENGTH = 2048;

/** Mixed into every MAC, so the key signs nothing but conversation signatures. */
const MAC_CONTEXT = "openconvai.conversation_signature.v1.";

/** The letters and digits upstream's ids are made of (32: a byte modulo it is unbiased). */
const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A new signature and what it fixes. */
export interface IssuedConversationSignature {
  /** The value of the URL's `conversation_signature` parameter. */
  signature: string;
  expiresAtUnixSecs: number;
  /** Set for a single-use signature: the id of the conversation it starts. */
  conversationId?: string;
}

/** What a signature check found: usable (with the conversation id it fixes, if any), or why not. */
export type ConversationSignatureCheck =
  | { ok: true; conversationId?: string }
  | { ok: false; reason: string };

/** The signed payload, as its JSON keys are written. */
interface SignedPayload {
  v: 1;
  a: string;
  e: number;
  n: string;
  c?: string;
}

/** The deployment's key: read (or created) once per store, then kept. */
const keys = new WeakMap<ConversationSignatureStore, Promise<Buffer>>();

function signingKey(store: ConversationSignatureStore): Promise<Buffer> {
  let key = keys.get(store);
  if (!key) {
    key = store.getSigningKey(randomBytes(32));
    // A failed read (the database unreachable) is not kept: the next call tries again.
    key.catch(() => keys.delete(store));
    keys.set(store, key);
  }
  return key;
}

function macOf(key: Buffer, payloadText: string): string {
  return createHmac("sha256", key).update(MAC_CONTEXT).update(payloadText).digest("base64url");
}

/** When a signature is made or checked: a Date, or milliseconds since the epoch (a `Clock`'s `now()`). */
export type SignatureTime = Date | number;

function toUnixSecs(now: SignatureTime): number {
  return Math.floor((typeof now === "number" ? now : now.getTime()) / 1000);
}

/** A conversation id in upstream's shape (`conv_` and 28 lower-case letters and digits). */
function newConversationId(): string {
  let id = "conv_";
  for (const byte of randomBytes(28)) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/**
 * Signs a new `conversation_signature` for an agent, valid for 15 minutes from `now`. With
 * `includeConversationId` it is single-use and fixes the id of the conversation it starts.
 */
export async function createConversationSignature(
  store: ConversationSignatureStore,
  request: { agentId: string; includeConversationId?: boolean; now?: SignatureTime },
): Promise<IssuedConversationSignature> {
  const expiresAtUnixSecs = toUnixSecs(request.now ?? Date.now()) + SIGNATURE_LIFETIME_SECS;
  const payload: SignedPayload = {
    v: 1,
    a: request.agentId,
    e: expiresAtUnixSecs,
    n: randomBytes(16).toString("base64url"),
  };
  if (request.includeConversationId) payload.c = newConversationId();
  const payloadText = Buffer.from(JSON.stringify(payload)).toString("base64url");
  const signature = `${payloadText}.${macOf(await signingKey(store), payloadText)}`;
  return payload.c === undefined
    ? { signature, expiresAtUnixSecs }
    : { signature, expiresAtUnixSecs, conversationId: payload.c };
}

/** The payload of a well-formed signature text; undefined for anything else. */
function parsePayload(payloadText: string): SignedPayload | undefined {
  try {
    const value = JSON.parse(
      Buffer.from(payloadText, "base64url").toString("utf8"),
    ) as Partial<SignedPayload>;
    if (
      value?.v !== 1 ||
      typeof value.a !== "string" ||
      typeof value.n !== "string" ||
      !Number.isSafeInteger(value.e) ||
      (value.c !== undefined && typeof value.c !== "string")
    ) {
      return undefined;
    }
    return value as SignedPayload;
  } catch {
    return undefined;
  }
}

/**
 * Checks a `conversation_signature` for a connection to `agentId` at `now`: authentic (made with
 * this deployment's key, compared in constant time), for this agent, not expired, and, when it is
 * single-use, not used before; a single-use signature is spent by the check that accepts it. The
 * reason of a refusal is written for a person ("signature expired", …); it names no secret.
 */
export async function verifyConversationSignature(
  store: ConversationSignatureStore,
  request: { agentId: string; signature: string; now?: SignatureTime },
): Promise<ConversationSignatureCheck> {
  const bad = { ok: false, reason: "bad signature" } as const;
  const { signature } = request;
  if (signature.length > MAX_SIGNATURE_LENGTH) return bad;
  const dot = signature.indexOf(".");
  if (dot <= 0) return bad;
  const payloadText = signature.slice(0, dot);
  // The mac is compared as text: base64url decoding would ignore changes to a last character's
  // unused bits, so a changed signature could still decode to the right bytes.
  const given = Buffer.from(signature.slice(dot + 1));
  const expected = Buffer.from(macOf(await signingKey(store), payloadText));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return bad;
  const payload = parsePayload(payloadText);
  if (!payload) return bad;
  if (payload.a !== request.agentId) return { ok: false, reason: "signature for another agent" };
  const nowUnixSecs = toUnixSecs(request.now ?? Date.now());
  if (nowUnixSecs >= payload.e) return { ok: false, reason: "signature expired" };
  if (payload.c === undefined) return { ok: true };
  if (!(await store.claimNonce(payload.n, payload.e))) {
    return { ok: false, reason: "signature already used" };
  }
  // Spent signatures are kept only until they expire (a signature past its expiry is refused anyway).
  await store.pruneSpentNonces(nowUnixSecs);
  return { ok: true, conversationId: payload.c };
}
