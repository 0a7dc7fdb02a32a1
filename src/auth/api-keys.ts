import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { ApiKeyRow, KeyStore } from "../store/store.js";
import { matchKeyReference } from "./key-reference.js";

/** What a newly created key looks like: the secret is shown once and never stored. */
export interface CreatedKey {
  row: ApiKeyRow;
  secret: string;
}

/**
 * What revoking by a reference did. `ambiguous` and `already-revoked` name keys by id and prefix
 * only: a full key is never stored, so it can never be shown.
 */
export type RevokeOutcome =
  | { status: "revoked"; key: ApiKeyRow }
  | { status: "already-revoked"; keys: ApiKeyRow[] }
  | { status: "ambiguous"; candidates: ApiKeyRow[] }
  | { status: "too-short" }
  | { status: "not-found" };

const KEY_PREFIX = "oc_";
const CACHE_TTL_MS = 5_000;

/**
 * Hashes an API key for storage. Keys are 256-bit random secrets, so a fast hash is enough:
 * there is nothing to brute-force. (A password hash would cost milliseconds per request.)
 */
export function hashApiKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Makes a new random key secret. */
export function generateApiKeySecret(): string {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

/** Creates, verifies and revokes API keys over a key store. */
export class ApiKeyService {
  /** Recently verified hashes, so a hot client does not cost a database round trip per request. */
  private readonly verified = new Map<string, number>();

  constructor(private readonly keys: KeyStore) {}

  /** Creates a key (from a given secret, for bootstrap keys) and stores its hash. */
  async create(name: string, secret: string = generateApiKeySecret()): Promise<CreatedKey> {
    const row: ApiKeyRow = {
      id: randomUUID(),
      name,
      prefix: secret.slice(0, 10),
      hash: hashApiKey(secret),
      createdAtUnixSecs: Math.floor(Date.now() / 1000),
      revokedAtUnixSecs: null,
    };
    await this.keys.insertKey(row);
    return { row, secret };
  }

  /**
   * Makes sure a key with this secret exists: `created` if it had to be made, `active` if it was
   * there. A key that was revoked stays revoked (`revoked`): a restart must not undo a revocation.
   */
  async ensure(secret: string, name: string): Promise<"created" | "active" | "revoked"> {
    const hash = hashApiKey(secret);
    if (await this.keys.findActiveKeyByHash(hash)) return "active";
    if ((await this.keys.listKeys()).some((k) => k.hash === hash)) return "revoked";
    await this.create(name, secret);
    return "created";
  }

  /** Every key, active and revoked, oldest first (hashes, never secrets). */
  async list(): Promise<ApiKeyRow[]> {
    return this.keys.listKeys();
  }

  /** Whether any key can still be used. */
  async hasActiveKey(): Promise<boolean> {
    return (await this.keys.listKeys()).some((k) => k.revokedAtUnixSecs === null);
  }

  /**
   * Revokes the one active key a reference names: the full key, its id, the prefix `keys list`
   * shows (with or without its ellipsis), or the start of an id or prefix. A reference that fits
   * several active keys revokes none of them.
   */
  async revokeByReference(reference: string): Promise<RevokeOutcome> {
    const match = matchKeyReference(await this.keys.listKeys(), reference, hashApiKey);
    if (match.kind === "too-short") return { status: "too-short" };
    if (match.kind === "none") return { status: "not-found" };
    const active = match.keys.filter((k) => k.revokedAtUnixSecs === null);
    if (active.length > 1) return { status: "ambiguous", candidates: active };
    const [key] = active;
    if (!key) return { status: "already-revoked", keys: match.keys };
    this.verified.clear();
    const changed = await this.keys.revokeKey(key.id, Math.floor(Date.now() / 1000));
    // Another process may have revoked it between the listing and the update.
    return changed > 0 ? { status: "revoked", key } : { status: "already-revoked", keys: [key] };
  }

  /** Revokes by reference as `revokeByReference` does; 1 if a key was revoked, else 0. */
  async revoke(reference: string): Promise<number> {
    return (await this.revokeByReference(reference)).status === "revoked" ? 1 : 0;
  }

  /** Checks a presented key; the stored and computed hashes are compared in constant time. */
  async verify(secret: string | undefined): Promise<boolean> {
    if (!secret || secret.length > 256) return false;
    const hash = hashApiKey(secret);
    const cachedAt = this.verified.get(hash);
    const now = Date.now();
    if (cachedAt !== undefined && now - cachedAt < CACHE_TTL_MS) return true;
    const row = await this.keys.findActiveKeyByHash(hash);
    if (!row) return false;
    const ok = timingSafeEqual(Buffer.from(row.hash, "hex"), Buffer.from(hash, "hex"));
    if (ok) {
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.set(hash, now);
    }
    return ok;
  }
}
