/**
 * Demo data for `openconvai seed --demo`: a dozen conversations across four agents, in the wire
 * shape the API serves, with silent MP3 audio (see silent-mp3.ts). The conversations are described
 * in demo-data/demo-conversations.json; demo-document.ts builds their documents.
 *
 * The documents are deterministic for a given "now": start times are placed a fixed number of
 * minutes before it, so a fresh install shows recent activity. Ids are fixed, so seeding again
 * replaces the same twelve conversations instead of adding more.
 *
 * The tags and topics the conversations refer to (`tag_ids`, `topic_ids`) are in the data file
 * too, and loaded with them (loadDemoDefinitions), so every id a demo conversation holds answers.
 */

import type { ConversationService } from "../conversations/conversation-service.js";
import { checkIncomingDocument } from "../conversations/document-validator.js";
import type { ConversationDoc } from "../domain/conversation.js";
import { foldForSearch } from "../domain/search-fold.js";
import type { AgentStore } from "../store/agent-store.js";
import type { UpsertOutcome } from "../store/store.js";
import type { TagStore } from "../store/tag-store.js";
import type { TopicStore } from "../store/topic-store.js";
import demoData from "./demo-data/demo-conversations.json" with { type: "json" };
import { buildDemoDocument, type DemoSpec } from "./demo-document.js";
import { buildSilentMp3 } from "./silent-mp3.js";

/** A demo tag as the data file holds it (the wire keys of a tag's definition). */
interface DemoTag {
  tag_id: string;
  title: string;
  description: string | null;
}

/** A demo topic as the data file holds it (what `PUT /ingest/v1/agents/{id}/topics` takes). */
interface DemoTopic {
  topic_id: string;
  label: string;
  description: string;
  parent_topic_id?: string;
}

/** The demo data file: agents' names by id, the tags and each agent's topics, and the conversations. */
interface DemoData {
  agents: Record<string, string>;
  tags: DemoTag[];
  topics: Record<string, DemoTopic[]>;
  conversations: DemoSpec[];
}

/** The workspace and owner of the demo tags: the ones the tag API gives every tag (one server is one workspace). */
const DEMO_TAG_WORKSPACE_ID = "default";
const DEMO_TAG_OWNER_USER_ID = "default";

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

/** What loading the demo tags and topics did. */
export interface DemoDefinitionsResult {
  /** Tags created; the others were there already (their title and description are set again). */
  tagsCreated: number;
  tags: number;
  /** Topics defined, over all demo agents. */
  topics: number;
  /** Demo agents created (those that were missing), when an agent store was given. */
  agentsCreated: number;
}

/**
 * Loads the tags and the topic definitions the demo conversations refer to. Seeding again changes
 * nothing: a demo tag that exists keeps its place and creation time (its title and description
 * are set back to the demo's), and each demo agent's topic definitions are replaced by the same set.
 */
export async function loadDemoDefinitions(
  stores: { tags: TagStore; topics: TopicStore; agents?: AgentStore },
  nowUnixSecs: number,
): Promise<DemoDefinitionsResult> {
  let agentsCreated = 0;
  if (stores.agents) {
    // The agents the conversations name, so their ids answer (the console lists and filters by
    // them). One that exists is left as it is: it may have been edited since.
    for (const [agentId, name] of Object.entries(DEMO.agents)) {
      if (await stores.agents.getAgent(agentId)) continue;
      await stores.agents.createAgent({
        agentId,
        json: JSON.stringify(demoAgentDocument(name)),
        searchName: foldForSearch(name),
        createdAtUnixSecs: nowUnixSecs,
      });
      agentsCreated++;
    }
  }
  let tagsCreated = 0;
  for (const tag of DEMO.tags) {
    const change = { title: tag.title, description: tag.description };
    const existing = await stores.tags.getTag(tag.tag_id);
    if (!existing) {
      await stores.tags.createTag({
        tagId: tag.tag_id,
        ...change,
        ownerUserId: DEMO_TAG_OWNER_USER_ID,
        workspaceId: DEMO_TAG_WORKSPACE_ID,
        createdAtUnixSecs: nowUnixSecs,
      });
      tagsCreated++;
    } else if (existing.title !== tag.title || existing.description !== tag.description) {
      await stores.tags.updateTag(tag.tag_id, change);
    }
  }
  let topics = 0;
  for (const [agentId, agentTopics] of Object.entries(DEMO.topics)) {
    await stores.topics.putTopics(
      agentId,
      agentTopics.map(({ topic_id: topicId, ...fields }) => ({ topicId, json: JSON.stringify(fields) })),
    );
    topics += agentTopics.length;
  }
  return { tagsCreated, tags: DEMO.tags.length, topics, agentsCreated };
}

/** A demo agent's document: its name, a greeting and a prompt, in the Agents API's shape. */
function demoAgentDocument(name: string): Record<string, unknown> {
  return {
    name,
    conversation_config: {
      agent: {
        first_message: `Hi, this is ${name}. How can I help?`,
        language: "en",
        prompt: { prompt: `You are ${name}, a friendly and concise support agent.` },
      },
    },
  };
}

/** The demo tags' ids and each demo agent's topic ids (what loadDemoDefinitions defines). */
export function demoDefinitionIds(): { tagIds: string[]; topicIds: Record<string, string[]> } {
  return {
    tagIds: DEMO.tags.map((t) => t.tag_id),
    topicIds: Object.fromEntries(
      Object.entries(DEMO.topics).map(([a, ts]) => [a, ts.map((t) => t.topic_id)]),
    ),
  };
}
