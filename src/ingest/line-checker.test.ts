import { afterEach, describe, expect, it } from "vitest";
import { LineChecker } from "./line-checker.js";
import { checkLines } from "./ndjson-check.js";

const good = {
  agent_id: "agent_1",
  conversation_id: "conv_1",
  status: "done",
  metadata: { start_time_unix_secs: 1_700_000_000, call_duration_secs: 5 },
  transcript: [{ role: "user", time_in_call_secs: 0, message: "héllo 日本" }],
};
const lines = () => [
  Buffer.from(JSON.stringify(good)),
  Buffer.from("{not json"),
  Buffer.from("   "),
  null,
  Buffer.from(JSON.stringify({ ...good, conversation_id: "conv_2", status: 7 })),
];

describe("LineChecker", () => {
  let checker: LineChecker | undefined;
  afterEach(async () => {
    await checker?.close();
  });

  it("checks lines in a worker thread with the same outcome as checking them in place", async () => {
    checker = new LineChecker(true);
    expect(checker.inWorker).toBe(true);
    const inWorker = await checker.check(lines(), 10, 1024, true);
    expect(inWorker).toEqual(checkLines(lines(), 10, 1024, true));
    expect(inWorker.records.map((r) => r.index.conversationId)).toEqual(["conv_1"]);
    expect(inWorker.bad.map((b) => b.line)).toEqual([11, 13, 14]);
    expect(inWorker.blank).toBe(1);
  });

  it("answers requests in the order they were made", async () => {
    checker = new LineChecker(true);
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        checker
          ?.check([Buffer.from(JSON.stringify({ ...good, conversation_id: `conv_${i}` }))], i + 1, 1024, true)
          .then((r) => r.records[0]?.index.conversationId),
      ),
    );
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => `conv_${i}`));
  });
});
