import { describe, expect, it } from "vitest";
import { checkIncomingDocument } from "../conversations/document-validator.js";
import {
  agentRule,
  applyPartialDeletion,
  expiryCutoff,
  readPrivacySettings,
  settingsKey,
} from "./retention-policy.js";

const agentJson = (privacy: unknown) => JSON.stringify({ name: "a", platform_settings: { privacy } });

describe("readPrivacySettings", () => {
  it("reads the retention fields, -1 as unlimited", () => {
    expect(readPrivacySettings(agentJson({ retention_days: -1 }))?.retentionDays).toBe("unlimited");
    expect(
      readPrivacySettings(
        agentJson({
          retention_days: 30,
          delete_audio: true,
          delete_transcript_and_pii: false,
          zero_retention_mode: false,
          apply_to_existing_conversations: true,
          record_voice: false,
        }),
      ),
    ).toEqual({
      retentionDays: 30,
      deleteAudio: true,
      deleteTranscriptAndPii: false,
      zeroRetentionMode: false,
      applyToExistingConversations: true,
    });
  });

  it("ignores a retention_days that is not -1 or a whole number from 1, and reports it", () => {
    for (const value of [0, 0.5, 2.5, -2, "30", true]) {
      const invalid: unknown[] = [];
      const read = readPrivacySettings(agentJson({ retention_days: value, delete_audio: true }), (v) =>
        invalid.push(v),
      );
      expect(read?.retentionDays).toBeNull();
      expect(invalid).toEqual([value]);
    }
    const none: unknown[] = [];
    expect(readPrivacySettings(agentJson({ retention_days: 0 }), (v) => none.push(v))).toBeNull();
    expect(none).toEqual([0]);
    const valid: unknown[] = [];
    expect(readPrivacySettings(agentJson({ retention_days: 1 }), (v) => valid.push(v))?.retentionDays).toBe(
      1,
    );
    expect(valid).toEqual([]);
  });

  it("is null when the agent sets nothing that changes retention", () => {
    expect(readPrivacySettings(JSON.stringify({ name: "a" }))).toBeNull();
    expect(readPrivacySettings(agentJson(null))).toBeNull();
    expect(
      readPrivacySettings(agentJson({ record_voice: false, apply_to_existing_conversations: true })),
    ).toBeNull();
    expect(readPrivacySettings(agentJson({ retention_days: "30", delete_audio: "yes" }))).toBeNull();
  });

  it("gives equal settings equal keys and different ones different keys", () => {
    const a = readPrivacySettings(agentJson({ retention_days: 5, delete_audio: true }));
    const b = readPrivacySettings(agentJson({ delete_audio: true, retention_days: 5, record_voice: true }));
    const c = readPrivacySettings(
      agentJson({ retention_days: 5, delete_audio: true, apply_to_existing_conversations: true }),
    );
    if (!a || !b || !c) throw new Error("settings expected");
    expect(settingsKey(a)).toBe(settingsKey(b));
    expect(settingsKey(a)).not.toBe(settingsKey(c));
  });
});

describe("agentRule", () => {
  const settings = (privacy: unknown) => {
    const read = readPrivacySettings(agentJson(privacy));
    if (!read) throw new Error("settings expected");
    return read;
  };

  it("uses the agent's period over the default, the default without one, never for unlimited", () => {
    expect(agentRule("a", settings({ retention_days: 5 }), 100, 30).expireAfterDays).toBe(5);
    expect(agentRule("a", settings({ delete_audio: true }), 100, 30).expireAfterDays).toBe(30);
    expect(agentRule("a", settings({ delete_audio: true }), 100, null).expireAfterDays).toBeNull();
    expect(agentRule("a", settings({ retention_days: -1 }), 100, 30).expireAfterDays).toBeNull();
  });

  it("deletes whole without a delete flag, only the flagged parts with one", () => {
    expect(agentRule("a", settings({ retention_days: 5 }), 100, null).expiry).toEqual({ kind: "delete" });
    expect(
      agentRule("a", settings({ retention_days: 5, delete_transcript_and_pii: true }), 100, null).expiry,
    ).toEqual({ kind: "partial", audio: false, transcript: true });
  });

  it("covers the conversations from when the settings took effect unless applied to existing ones", () => {
    expect(agentRule("a", settings({ retention_days: 5 }), 100, null).startFrom).toBe(100);
    expect(
      agentRule("a", settings({ retention_days: 5, apply_to_existing_conversations: true }), 100, null)
        .startFrom,
    ).toBeNull();
    expect(agentRule("a", settings({ zero_retention_mode: true }), 100, null).zeroRetention).toBe(true);
  });
});

describe("expiryCutoff", () => {
  it("is the start time that is `days` old now", () => {
    expect(expiryCutoff(1_000_000_000_000, 1)).toBe(1_000_000_000 - 86_400);
    expect(expiryCutoff(1_000_000_000_000, 0.5)).toBe(1_000_000_000 - 43_200);
  });
});

describe("applyPartialDeletion", () => {
  const doc = {
    agent_id: "a",
    conversation_id: "c1",
    status: "done",
    user_id: "user-1",
    transcript: [{ role: "user", message: "my number is 4111", time_in_call_secs: 0 }],
    metadata: {
      start_time_unix_secs: 1_700_000_000,
      call_duration_secs: 10,
      phone_call: {
        type: "twilio",
        direction: "inbound",
        phone_number_id: "pn",
        agent_number: "+1",
        external_number: "+2",
        stream_sid: "s",
        call_sid: "c",
      },
    },
    analysis: {
      call_successful: "success",
      transcript_summary: "4111",
      call_summary_title: "Card 4111",
      evaluation_criteria_results: {
        polite: { criteria_id: "polite", result: "success", rationale: "said 4111" },
      },
      data_collection_results: { card: { data_collection_id: "card", value: "4111", rationale: "4111" } },
    },
    conversation_initiation_client_data: { dynamic_variables: { name: "Ada" }, user_id: "user-1" },
  };

  it("removes the transcript and personal data, keeps outcomes, and records it; the result is a valid document", () => {
    const next = applyPartialDeletion(structuredClone(doc), {
      audio: false,
      transcript: true,
      atUnixSecs: 1_800_000_000,
    });
    expect(JSON.stringify(next)).not.toContain("4111");
    expect(JSON.stringify(next)).not.toContain("Ada");
    expect(next).toMatchObject({
      transcript: [],
      user_id: null,
      analysis: {
        call_successful: "success",
        transcript_summary: "",
        evaluation_criteria_results: { polite: { result: "success", rationale: "" } },
        data_collection_results: {},
      },
      metadata: {
        phone_call: null,
        deletion_settings: {
          deletion_time_unix_secs: 1_800_000_000,
          delete_transcript_and_pii: true,
          deleted_transcript_at_time_unix_secs: 1_800_000_000,
        },
      },
    });
    expect(checkIncomingDocument(next, "c1").ok).toBe(true);
  });

  it("records an audio deletion and leaves the transcript", () => {
    const next = applyPartialDeletion(structuredClone(doc), {
      audio: true,
      transcript: false,
      atUnixSecs: 5,
    });
    expect(next.transcript).toEqual(doc.transcript);
    expect((next.metadata as Record<string, unknown>).deletion_settings).toEqual({
      deletion_time_unix_secs: 5,
      delete_audio: true,
      deleted_audio_at_time_unix_secs: 5,
    });
  });
});
