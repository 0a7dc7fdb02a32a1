/** A topic definition of an agent: its id and the wire JSON of its descriptive fields. */
export interface TopicDefinitionRow {
  topicId: string;
  /** `{label, description, parent_topic_id?, x_2d?, y_2d?}` as JSON text. */
  json: string;
}

/** A time window over conversation start times: `from` inclusive, `to` exclusive; open ends unset. */
export interface TopicWindow {
  fromUnixSecs?: number;
  toUnixSecs?: number;
}

/** How many of an agent's conversations in a window carry one topic id. */
export interface TopicConversationCount {
  topicId: string;
  conversationCount: number;
}

/** Evaluation results of the conversations carrying one topic id, per criterion and result. */
export interface TopicEvaluationCount {
  topicId: string;
  criteriaId: string;
  result: string;
  count: number;
}

/** Start times of the conversations a report counted (null when none). */
export interface TopicTimeSpan {
  firstStartUnixSecs: number | null;
  lastStartUnixSecs: number | null;
}

/** Agents' topic definitions (put through ingest) and the conversation metrics behind topic reports. */
export interface TopicStore {
  /** Replaces an agent's topic definitions (in order) in one transaction. */
  putTopics(agentId: string, topics: readonly TopicDefinitionRow[]): Promise<void>;
  /** An agent's topic definitions in the order they were put; empty if none. */
  getTopics(agentId: string): Promise<TopicDefinitionRow[]>;
  /** Ids of agents with topic definitions, in id order, after `afterAgentId` when given; at most `limit`. */
  listTopicAgentIds(afterAgentId: string | null, limit: number): Promise<string[]>;
  /** Per topic id: the agent's conversations in the window that carry it (`topic_ids`). */
  countTopicConversations(agentId: string, window: TopicWindow): Promise<TopicConversationCount[]>;
  /** Per topic id, criterion and result: evaluation outcomes of those conversations. */
  countTopicEvaluations(agentId: string, window: TopicWindow): Promise<TopicEvaluationCount[]>;
  /** First and last start time of the agent's conversations in the window that carry any topic. */
  topicTimeSpan(agentId: string, window: TopicWindow): Promise<TopicTimeSpan>;
}
