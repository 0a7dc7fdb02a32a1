import { describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../conversations/document-validator.js";
import { buildDemoConversations, demoDefinitionIds } from "./demo-conversations.js";
import {
  buildSilentMp3,
  SILENT_MP3_FRAME_BYTES,
  SILENT_MP3_FRAME_HEADER,
  SILENT_MP3_FRAME_SECS,
} from "./silent-mp3.js";

const NOW = 1_760_000_000;
/** The parts of a demo document these tests look at. */
interface DemoDoc {
  conversation_id: string;
  agent_id: string;
  user_id: string | null;
  parent_conversation_id?: string;
  topic_ids?: string[];
  tag_ids?: string[];
  transcript: { tool_calls: unknown[]; tool_results: { is_error: boolean }[] }[];
  metadata: {
    start_time_unix_secs: number;
    main_language: string;
    phone_call: unknown;
    feedback: { rating: number | null; comment: string | null };
    termination_reason: string;
  };
  analysis: {
    call_successful: string;
    transcript_summary: string;
    call_summary_title: string;
    evaluation_criteria_results: Record<string, unknown>;
    data_collection_results: Record<string, unknown>;
  };
  conversation_initiation_client_data: { dynamic_variables: Record<string, unknown> };
}

describe("buildDemoConversations", () => {
  const docs = buildDemoConversations(NOW) as unknown as DemoDoc[];
  const turns = docs.flatMap((d) => d.transcript);

  it("is deterministic for a given now, and every document passes ingest validation", () => {
    expect(buildDemoConversations(NOW)).toEqual(docs);
    expect(docs).toHaveLength(12);
    expect(new Set(docs.map((d) => d.conversation_id)).size).toBe(12);
    for (const doc of docs) expect(checkIncomingDocument(doc, undefined)).toMatchObject({ ok: true });
  });

  it("starts every conversation within the last week, newest first, with ids in that order", () => {
    const starts = docs.map((d) => d.metadata.start_time_unix_secs);
    for (const s of starts) expect(NOW - s).toBeGreaterThan(0);
    for (const s of starts) expect(NOW - s).toBeLessThan(7 * 86_400);
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);
    expect(docs.map((d) => d.conversation_id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `conv_demo_${String(i + 1).padStart(2, "0")}`),
    );
  });

  it("covers what the list filters look at", () => {
    expect(new Set(docs.map((d) => d.agent_id)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(docs.map((d) => d.user_id).filter(Boolean)).size).toBeGreaterThanOrEqual(5);
    const languages = docs.map((d) => d.metadata.main_language);
    expect(languages).toContain("ja");
    expect(languages).toContain("es");
    const results = turns.flatMap((t) => t.tool_results);
    expect(results.some((r) => r.is_error === true)).toBe(true);
    expect(results.some((r) => r.is_error === false)).toBe(true);
    expect(turns.some((t) => t.tool_calls.length > 0)).toBe(true);
    expect(docs.filter((d) => d.metadata.phone_call).length).toBeGreaterThanOrEqual(3);
    expect(docs.filter((d) => d.metadata.feedback.rating !== null).length).toBeGreaterThanOrEqual(4);
    expect(docs.some((d) => d.metadata.feedback.comment)).toBe(true);
    expect(new Set(docs.map((d) => d.analysis.call_successful))).toEqual(
      new Set(["success", "failure", "unknown"]),
    );
    for (const doc of docs) {
      expect(doc.analysis.transcript_summary).toBeTruthy();
      expect(doc.analysis.call_summary_title).toBeTruthy();
      expect(Object.keys(doc.analysis.evaluation_criteria_results).length).toBeGreaterThan(0);
      expect(Object.keys(doc.analysis.data_collection_results).length).toBeGreaterThan(0);
      expect(doc.metadata.termination_reason).toBeTruthy();
      expect(Object.keys(doc.conversation_initiation_client_data.dynamic_variables).length).toBeGreaterThan(
        0,
      );
    }
    const follow = docs.find((d) => d.parent_conversation_id);
    expect(docs.map((d) => d.conversation_id)).toContain(follow?.parent_conversation_id);
    expect(docs.some((d) => Array.isArray(d.topic_ids))).toBe(true);
  });
});

describe("demoDefinitionIds", () => {
  it("defines every tag id and, for its agent, every topic id a demo conversation holds", () => {
    const { tagIds, topicIds } = demoDefinitionIds();
    const docs = buildDemoConversations(NOW) as unknown as DemoDoc[];
    const tagged = docs.flatMap((d) => d.tag_ids ?? []);
    expect(tagged.length).toBeGreaterThan(0);
    for (const tagId of tagged) expect(tagIds).toContain(tagId);
    for (const doc of docs) {
      for (const topicId of doc.topic_ids ?? []) expect(topicIds[doc.agent_id] ?? []).toContain(topicId);
    }
    expect(new Set(tagIds).size).toBe(tagIds.length);
    for (const ids of Object.values(topicIds)) expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("buildSilentMp3", () => {
  it("is a run of whole 144-byte MPEG-1 Layer III frames covering the duration", () => {
    const mp3 = buildSilentMp3(10);
    const frames = Math.ceil(10 / SILENT_MP3_FRAME_SECS);
    expect(mp3.length).toBe(frames * SILENT_MP3_FRAME_BYTES);
    for (let offset = 0; offset < mp3.length; offset += SILENT_MP3_FRAME_BYTES) {
      expect(mp3.subarray(offset, offset + 4)).toEqual(SILENT_MP3_FRAME_HEADER);
      // Side information and main data are zero: no spectral data, i.e. silence.
      expect(mp3.subarray(offset + 4, offset + SILENT_MP3_FRAME_BYTES).every((b) => b === 0)).toBe(true);
    }
    expect(buildSilentMp3(0).length).toBe(SILENT_MP3_FRAME_BYTES);
  });

  it("has a header that decodes to MPEG-1, Layer III, 32 kbit/s, 32 kHz, mono, no padding", () => {
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = SILENT_MP3_FRAME_HEADER;
    expect(b0).toBe(0xff); // sync
    expect((b1 >> 5) & 0b111).toBe(0b111); // sync
    expect((b1 >> 3) & 0b11).toBe(0b11); // MPEG-1
    expect((b1 >> 1) & 0b11).toBe(0b01); // Layer III
    expect(b1 & 1).toBe(1); // no CRC
    expect(b2 >> 4).toBe(0b0001); // 32 kbit/s
    expect((b2 >> 2) & 0b11).toBe(0b10); // 32 kHz
    expect((b2 >> 1) & 1).toBe(0); // no padding
    expect(b3 >> 6).toBe(0b11); // mono
  });
});
