import { describe, expect, it } from "vitest";
import { parseClientFrame } from "../../src/runtime/client-frames.js";
import { MAX_TIMER_DELAY_MS, systemClock } from "../../src/runtime/clock.js";
import {
  MAX_CONTEXTUAL_UPDATES,
  MAX_CONTEXTUAL_UPDATES_LENGTH,
  MAX_FRAME_TEXT_LENGTH,
  MAX_TRANSCRIPT_ENTRIES,
  MAX_TRANSCRIPT_LENGTH,
} from "../../src/runtime/session-bounds.js";
import { INIT, type ScriptedBrain, startSession, transcriptOf } from "./session-harness.js";

describe("the size of what a client sends", () => {
  it.each([
    ["user_message", { type: "user_message" }],
    ["contextual_update", { type: "contextual_update" }],
    ["multimodal_message", { type: "multimodal_message", text: { type: "user_message" } }],
  ])("refuses a %s text over the limit, naming it", (_type, frame) => {
    const at = "x".repeat(MAX_FRAME_TEXT_LENGTH);
    const over = `${at}x`;
    const withText = (value: string) =>
      "text" in frame && typeof frame.text === "object"
        ? { ...frame, text: { ...frame.text, text: value } }
        : { ...frame, text: value };
    expect(parseClientFrame(JSON.stringify(withText(at)))).toMatchObject({ ok: true });
    const refused = parseClientFrame(JSON.stringify(withText(over)));
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok ? "" : refused.reason).toContain(String(MAX_FRAME_TEXT_LENGTH));
  });
});

describe("contextual updates kept", () => {
  it(`keeps the last ${MAX_CONTEXTUAL_UPDATES}, dropping the oldest`, async () => {
    const { session, brain } = startSession({ scripts: [[]] });
    await session.handle(INIT);
    for (let i = 0; i < MAX_CONTEXTUAL_UPDATES + 10; i += 1)
      await session.handle({ type: "contextual_update", text: `update ${i}` });
    await session.handle({ type: "user_message", text: "hi" });
    await session.settled();
    const updates = (brain as ScriptedBrain).contexts[0]?.contextualUpdates ?? [];
    expect(updates).toHaveLength(MAX_CONTEXTUAL_UPDATES);
    expect(updates[0]).toBe("update 10");
    expect(updates.at(-1)).toBe(`update ${MAX_CONTEXTUAL_UPDATES + 9}`);
  });

  it("keeps their total length within the limit, dropping the oldest", async () => {
    const { session, brain } = startSession({ scripts: [[]] });
    await session.handle(INIT);
    const big = Math.floor(MAX_CONTEXTUAL_UPDATES_LENGTH / 3);
    for (let i = 0; i < 5; i += 1)
      await session.handle({ type: "contextual_update", text: `${i}`.padEnd(big, "-") });
    await session.handle({ type: "user_message", text: "hi" });
    await session.settled();
    const updates = (brain as ScriptedBrain).contexts[0]?.contextualUpdates ?? [];
    expect(updates.map((u) => u[0])).toEqual(["2", "3", "4"]);
    expect(updates.reduce((sum, u) => sum + u.length, 0)).toBeLessThanOrEqual(MAX_CONTEXTUAL_UPDATES_LENGTH);
  });
});

describe("the size of a transcript", () => {
  it(`ends the conversation, recorded, when the transcript reaches ${MAX_TRANSCRIPT_ENTRIES} entries`, async () => {
    const { session, closes, last } = startSession();
    await session.handle(INIT);
    for (let i = 0; i < MAX_TRANSCRIPT_ENTRIES + 5 && closes.length === 0; i += 1) {
      await session.handle({ type: "user_message", text: `m${i}` });
      await session.settled();
    }
    expect(closes).toHaveLength(1);
    expect(closes[0]?.code).toBe(1008);
    expect(closes[0]?.reason).toMatch(/^Conversation too long/);
    const doc = last();
    expect(transcriptOf(doc)).toHaveLength(MAX_TRANSCRIPT_ENTRIES);
    expect(doc).toMatchObject({ status: "failed" });
    expect(String((doc.metadata as Record<string, unknown>).termination_reason)).toMatch(
      /^Conversation too long/,
    );
  });

  it("ends the conversation when the transcript's text reaches its length limit", async () => {
    const { session, closes, last } = startSession();
    await session.handle(INIT);
    const chunk = "y".repeat(MAX_FRAME_TEXT_LENGTH);
    const most = Math.ceil(MAX_TRANSCRIPT_LENGTH / MAX_FRAME_TEXT_LENGTH) + 2;
    for (let i = 0; i < most && closes.length === 0; i += 1) {
      await session.handle({ type: "user_message", text: chunk });
      await session.settled();
    }
    expect(closes.map((c) => c.code)).toEqual([1008]);
    expect(transcriptOf(last()).length).toBeLessThan(MAX_TRANSCRIPT_ENTRIES);
    expect(JSON.stringify(transcriptOf(last())).length).toBeLessThan(
      MAX_TRANSCRIPT_LENGTH + 2 * MAX_FRAME_TEXT_LENGTH,
    );
  });
});

describe("the system clock", () => {
  it("does not fire a timer set beyond setTimeout's range at once", async () => {
    let fired = false;
    const cancel = systemClock.setTimer(MAX_TIMER_DELAY_MS * 2, () => {
      fired = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    cancel();
    expect(fired).toBe(false);
    expect(MAX_TIMER_DELAY_MS).toBe(2 ** 31 - 1);
  });
});
