/**
 * Demo data for `openconvai seed --demo`: a dozen conversations across four agents, in the wire
 * shape the API serves, with silent MP3 audio (see silent-mp3.ts). The conversations are described
 * in demo-data/demo-conversations.json; demo-document.ts builds their documents.
 *
 * The documents are deterministic for a given "now": start times are placed a fixed number of
 * minutes before it, so a fresh install shows recent activity. Ids are fixed, so seeding again
 * replaces the same twelve conversations instead of adding more.
 */

import type { ConversationService } from "../conversations/conversation-service.js";
import { checkIncomingDocument } from "../conversations/document-validator.js";
import type { ConversationDoc } from "../domain/conversation.js";
import type { UpsertOutcome } from "../store/store.js";
import demoData from "./demo-data/demo-conversations.json" with { type: "json" };
import { buildDemoDocument, type DemoSpec } from "./demo-document.js";
import { buildSilentMp3 } from "./silent-mp3.js";

/** The demo data file: agents' names by id, and the conversations. */
interface DemoData {
  agents: Record<string, string>;
  conversations: DemoSpec[];
}

// The JSON's inferred types are wider than DemoSpec's (a tuple reads as an array), so the cast
// goes through unknown; the documents built from it are validated like any other on load (and in
// demo-conversations.test.ts).
const DEMO = demoData as unknown as DemoData;

/** The demo conversations, newest first, with start times a fixed number of minutes before `nowUnixSecs`. */
export function buildDemoConversations(nowUnixSecs: number): ConversationDoc[] {
  return [...DEMO.conversations]
    .sort((a, b) => a.minutesAgo - b.minutesAgo)
    .map((spec) => buildDemoDocument(spec, DEMO.agents[spec.agent] ?? spec.agent, nowUnixSecs));
}

/** What loading the demo did: each conversation's document and whether it was created or replaced. */
export interface DemoLoadResult {
  conversations: { doc: ConversationDoc; outcome: UpsertOutcome; audioBytes: number }[];
}

/** Loads the demo conversations (one transaction) and then their audio; loading again replaces them. */
export async function loadDemoConversations(
  ingest: Pick<ConversationService, "putRecords" | "putAudio">,
  nowUnixSecs: number,
): Promise<DemoLoadResult> {
  const docs = buildDemoConversations(nowUnixSecs);
  const records = docs.map((doc) => {
    const checked = checkIncomingDocument(doc, undefined);
    if (!checked.ok) {
      throw new Error(
        `demo conversation ${String(doc.conversation_id)} is invalid: ${JSON.stringify(checked.issues)}`,
      );
    }
    return checked.record;
  });
  const outcomes = await ingest.putRecords(records);
  const conversations: DemoLoadResult["conversations"] = [];
  for (const [i, doc] of docs.entries()) {
    const audio = buildSilentMp3((doc.metadata as { call_duration_secs: number }).call_duration_secs);
    const stored = await ingest.putAudio(String(doc.conversation_id), audio, "audio/mpeg");
    if (!stored)
      throw new Error(
        `demo conversation ${String(doc.conversation_id)} vanished before its audio was stored`,
      );
    conversations.push({ doc, outcome: outcomes[i] ?? "created", audioBytes: audio.length });
  }
  return { conversations };
}
