import { describe, expect, it } from "vitest";
import {
  deriveReferenceConversationId,
  deriveReferenceKeys,
  normaliseReference,
} from "./conversation-reference.js";

const SLACK = "https://acme.slack.com/archives/C0123ABC/p1712345678123456";
const ZENDESK = "https://acme.zendesk.com/agent/tickets/4711";

describe("reference normalisation", () => {
  it("gives every spelling of one Slack thread or Zendesk ticket the same key", () => {
    const thread = "slack:acme.slack.com/C0123ABC/1712345678.123456";
    expect(normaliseReference(SLACK)).toBe(thread);
    expect(normaliseReference(`${SLACK}?cid=C0123ABC`)).toBe(thread);
    // A reply's link names its thread.
    expect(
      normaliseReference(
        "https://ACME.slack.com/archives/C0123ABC/p1712345999000001?thread_ts=1712345678.123456&cid=C0123ABC",
      ),
    ).toBe(thread);
    const ticket = "zendesk:acme.zendesk.com/4711";
    expect(normaliseReference(ZENDESK)).toBe(ticket);
    expect(normaliseReference("https://acme.zendesk.com/agent/tickets/4711/")).toBe(ticket);
    expect(normaliseReference("https://acme.zendesk.com/api/v2/tickets/4711.json")).toBe(ticket);
    expect(normaliseReference("https://acme.zendesk.com/hc/en-us/requests/4711")).toBe(ticket);
    expect(normaliseReference("https://acme.zendesk.com/agent/tickets/004711")).toBe(ticket);
    expect(normaliseReference("https://acme.zendesk.com/agent/tickets/0")).toBe("zendesk:acme.zendesk.com/0");
    // Ticket ids past 2^53 keep every digit: they are compared as text, not as Numbers.
    expect(normaliseReference("https://acme.zendesk.com/agent/tickets/9007199254740993")).toBe(
      "zendesk:acme.zendesk.com/9007199254740993",
    );
    expect(normaliseReference(`https://acme.zendesk.com/agent/tickets/${"9".repeat(40)}`)).toBe(
      `zendesk:acme.zendesk.com/${"9".repeat(40)}`,
    );
    for (const other of [
      "https://example.com/x",
      "not a url",
      "ftp://acme.slack.com/archives/C1/p1712345678123456",
    ]) {
      expect(normaliseReference(other)).toBeUndefined();
    }
  });
});

describe("reference keys and derived ids", () => {
  it("indexes metadata.async_metadata.external_link, and nothing else", () => {
    const doc = (asyncMetadata: unknown) => ({ metadata: { async_metadata: asyncMetadata } });
    expect(deriveReferenceKeys(doc({ external_link: ZENDESK }))).toEqual(["zendesk:acme.zendesk.com/4711"]);
    expect(deriveReferenceKeys(doc({ external_link: "https://example.com" }))).toEqual([]);
    expect(deriveReferenceKeys(doc(null))).toEqual([]);
    expect(deriveReferenceKeys({})).toEqual([]);
  });

  it("derives a stable id per agent and reference", () => {
    const id = deriveReferenceConversationId("agent_a", "zendesk:acme.zendesk.com/4711");
    expect(id).toMatch(/^conv_[0-9a-f]{32}$/);
    expect(deriveReferenceConversationId("agent_a", "zendesk:acme.zendesk.com/4711")).toBe(id);
    expect(deriveReferenceConversationId("agent_b", "zendesk:acme.zendesk.com/4711")).not.toBe(id);
  });
});
