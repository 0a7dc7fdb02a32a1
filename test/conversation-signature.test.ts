import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConversationSignature,
  SIGNATURE_LIFETIME_SECS,
  verifyConversationSignature,
} from "../src/runtime/conversation-signature.js";
import type { Database } from "../src/store/store.js";
import { BACKENDS, createTestStorage, type TestStorage } from "./support/backends.js";

/** A signed URL as the routes build it, with the parameters a client appends after it. */
function signedUrlWithClientParams(agentId: string, signature: string): string {
  const query = new URLSearchParams({ agent_id: agentId, conversation_signature: signature });
  return `wss://convai.example.com/v1/convai/conversation?${query}&source=js_sdk&version=1.25.0&environment=staging`;
}

/** The signature of a URL, read as the socket route reads it. */
const signatureOf = (url: string) => new URL(url).searchParams.get("conversation_signature") ?? "";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The same text with the character at `index` replaced by its base64url neighbour (its lowest bit
 * flipped): in the last character of a 32-byte mac that bit is padding, which decoding ignores.
 */
function changeCharAt(text: string, index: number): string {
  const at = BASE64URL.indexOf(text[index] ?? "");
  const replacement = at < 0 ? "A" : (BASE64URL[at ^ 1] as string);
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

describe.each(BACKENDS)("conversation signatures (%s)", (backend) => {
  let storage: TestStorage;
  /** Two connections to one database: two nodes of one deployment. */
  let nodeA: Database;
  let nodeB: Database;
  const agentId = "agent_signature_test";
  const issuedAt = new Date("2026-01-01T12:00:00Z");
  const later = (secs: number) => new Date(issuedAt.getTime() + secs * 1000);

  beforeAll(async () => {
    storage = createTestStorage(backend);
    nodeA = await storage.open();
    nodeB = await storage.open();
  });
  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
    await storage?.cleanup();
  });

  it("accepts a valid signature, on the node that made it and on another node, with no conversation id", async () => {
    const issued = await createConversationSignature(nodeA.conversationSignatures, {
      agentId,
      now: issuedAt,
    });
    expect(issued.expiresAtUnixSecs).toBe(issuedAt.getTime() / 1000 + SIGNATURE_LIFETIME_SECS);
    expect(issued.conversationId).toBeUndefined();
    const check = { agentId, signature: issued.signature, now: later(60) };
    expect(await verifyConversationSignature(nodeA.conversationSignatures, check)).toEqual({ ok: true });
    expect(await verifyConversationSignature(nodeB.conversationSignatures, check)).toEqual({ ok: true });
    // Without a conversation id a signature may start several conversations until it expires.
    expect(await verifyConversationSignature(nodeA.conversationSignatures, check)).toEqual({ ok: true });
  });

  it("does not mind the parameters a client appends to the signed URL", async () => {
    const issued = await createConversationSignature(nodeA.conversationSignatures, {
      agentId,
      now: issuedAt,
    });
    const url = signedUrlWithClientParams(agentId, issued.signature);
    const signature = signatureOf(url);
    expect(signature).toBe(issued.signature);
    expect(
      await verifyConversationSignature(nodeB.conversationSignatures, { agentId, signature, now: later(1) }),
    ).toEqual({ ok: true });
  });

  it("refuses a signature with any one character changed as a bad signature", async () => {
    const issued = await createConversationSignature(nodeA.conversationSignatures, {
      agentId,
      now: issuedAt,
    });
    const { signature } = issued;
    const dot = signature.indexOf(".");
    // In the payload, at the dot, in the mac, and the mac's last character (whose low bits base64 ignores).
    for (const index of [0, Math.floor(dot / 2), dot, dot + 5, signature.length - 1]) {
      const tampered = changeCharAt(signature, index);
      expect(tampered).not.toBe(signature);
      expect(
        await verifyConversationSignature(nodeA.conversationSignatures, {
          agentId,
          signature: tampered,
          now: later(1),
        }),
        `changed at ${index}`,
      ).toEqual({ ok: false, reason: "bad signature" });
    }
    for (const junk of ["", ".", "abc", "abc.def", `${signature}x`, "x".repeat(5000)]) {
      expect(
        await verifyConversationSignature(nodeA.conversationSignatures, { agentId, signature: junk }),
      ).toEqual({ ok: false, reason: "bad signature" });
    }
  });

  it("refuses an expired signature, and accepts it up to its last second", async () => {
    const issued = await createConversationSignature(nodeA.conversationSignatures, {
      agentId,
      now: issuedAt,
    });
    const at = (secs: number) =>
      verifyConversationSignature(nodeA.conversationSignatures, {
        agentId,
        signature: issued.signature,
        now: later(secs),
      });
    expect(await at(SIGNATURE_LIFETIME_SECS - 1)).toEqual({ ok: true });
    expect(await at(SIGNATURE_LIFETIME_SECS)).toEqual({ ok: false, reason: "signature expired" });
    expect(await at(24 * 3600)).toEqual({ ok: false, reason: "signature expired" });
    // The time may also be given as a Clock gives it: milliseconds since the epoch.
    const byClock = (secs: number) =>
      verifyConversationSignature(nodeA.conversationSignatures, {
        agentId,
        signature: issued.signature,
        now: later(secs).getTime(),
      });
    expect(await byClock(SIGNATURE_LIFETIME_SECS - 1)).toEqual({ ok: true });
    expect(await byClock(SIGNATURE_LIFETIME_SECS)).toEqual({ ok: false, reason: "signature expired" });
  });

  it("refuses a signature made for another agent", async () => {
    const issued = await createConversationSignature(nodeA.conversationSignatures, {
      agentId,
      now: issuedAt,
    });
    expect(
      await verifyConversationSignature(nodeB.conversationSignatures, {
        agentId: "agent_someone_else",
        signature: issued.signature,
        now: later(1),
      }),
    ).toEqual({ ok: false, reason: "signature for another agent" });
  });

  it("with a conversation id: the first use gets the id, a second use is refused on any node", async () => {
    const issued = await createConversationSignature(nodeA.conversationSignatures, {
      agentId,
      includeConversationId: true,
      now: issuedAt,
    });
    expect(issued.conversationId).toMatch(/^conv_[0-9a-z]{28}$/);
    const signature = signatureOf(signedUrlWithClientParams(agentId, issued.signature));
    const check = { agentId, signature, now: later(10) };
    expect(await verifyConversationSignature(nodeA.conversationSignatures, check)).toEqual({
      ok: true,
      conversationId: issued.conversationId,
    });
    const used = { ok: false, reason: "signature already used" };
    expect(await verifyConversationSignature(nodeA.conversationSignatures, check)).toEqual(used);
    expect(await verifyConversationSignature(nodeB.conversationSignatures, check)).toEqual(used);
  });

  it("spends a single-use signature once when two nodes check it at the same moment", async () => {
    const issued = await createConversationSignature(nodeB.conversationSignatures, {
      agentId,
      includeConversationId: true,
      now: issuedAt,
    });
    const check = { agentId, signature: issued.signature, now: later(1) };
    const results = await Promise.all(
      [nodeA, nodeB, nodeA, nodeB].map((node) =>
        verifyConversationSignature(node.conversationSignatures, check),
      ),
    );
    expect(results.filter((r) => r.ok)).toEqual([{ ok: true, conversationId: issued.conversationId }]);
  });

  it("gives each single-use signature its own conversation id", async () => {
    const ids = new Set<string | undefined>();
    for (let i = 0; i < 5; i++) {
      const issued = await createConversationSignature(nodeA.conversationSignatures, {
        agentId,
        includeConversationId: true,
      });
      ids.add(issued.conversationId);
    }
    expect(ids.size).toBe(5);
  });

  it("prunes spent signatures once they have expired, and only those", async () => {
    const store = nodeA.conversationSignatures;
    expect(await store.claimNonce("prune_old", 1_000)).toBe(true);
    expect(await store.claimNonce("prune_new", 5_000)).toBe(true);
    expect(await store.pruneSpentNonces(2_000)).toBeGreaterThanOrEqual(1);
    expect(await store.claimNonce("prune_old", 1_000)).toBe(true);
    expect(await store.claimNonce("prune_new", 5_000)).toBe(false);
  });
});
