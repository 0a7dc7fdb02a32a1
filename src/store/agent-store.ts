/**
 * An agent as stored: its document as the client wrote it (JSON text, snake_case, served as is
 * apart from the keys the server fills), and what the server keeps beside it.
 */
export interface AgentRow {
  /** Insertion order: newer agents have larger values (the list's order and cursor). */
  seq: number;
  agentId: string;
  /** The document: what the client sent (merged by PATCHes), without `agent_id` and `metadata`. */
  json: string;
  createdAtUnixSecs: number;
  updatedAtUnixSecs: number;
}

/** An agent to create: the document, and the name folded for search (`foldForSearch`). */
export interface NewAgent {
  agentId: string;
  json: string;
  searchName: string;
  createdAtUnixSecs: number;
}

/** What a change to an agent writes: the new document and its folded name. */
export interface AgentChange {
  json: string;
  searchName: string;
  updatedAtUnixSecs: number;
}

/** One page of agents, newest first. */
export interface AgentListQuery {
  /** Only agents older than this position (exclusive); null for the first page. */
  beforeSeq: number | null;
  /** At most this many. */
  limit: number;
  /** Only agents whose folded name contains this (already folded) text; null for all. */
  searchName: string | null;
}

/** An agent as a backup holds it: the stored row and its folded name, restored as they are. */
export interface RestoredAgent extends AgentRow {
  searchName: string;
}

/** Agents (their configuration documents), the one interface both database backends implement. */
export interface AgentStore {
  /** Adds an agent and returns it as stored. */
  createAgent(agent: NewAgent): Promise<AgentRow>;
  /** The agent; undefined if there is none with that id. */
  getAgent(agentId: string): Promise<AgentRow | undefined>;
  /** Agents newest first, as the query says. */
  listAgents(query: AgentListQuery): Promise<AgentRow[]>;
  /**
   * Reads, changes and rewrites one agent in one transaction (no other writer interleaves);
   * `change` gets the stored row and returns what to write, or throws to write nothing. Returns the
   * agent as written; undefined (nothing written) if it does not exist.
   */
  updateAgent(agentId: string, change: (current: AgentRow) => AgentChange): Promise<AgentRow | undefined>;
  /** Removes an agent and returns it; undefined if it does not exist. */
  deleteAgent(agentId: string): Promise<AgentRow | undefined>;
  /** Up to `limit` agents oldest first, after the position `afterSeq` (null: from the first); for backups. */
  scanAgents(afterSeq: number | null, limit: number): Promise<AgentRow[]>;
  /**
   * Adds an agent as a backup holds it (document, times and position kept), or replaces the one
   * with its id (keeping that one's place); a new agent takes `seq` when no other agent holds it,
   * else the next place. Agents created later come after it. Returns it as stored.
   */
  restoreAgent(agent: RestoredAgent): Promise<AgentRow>;
}
