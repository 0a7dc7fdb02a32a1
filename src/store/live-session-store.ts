/** A live session a node has registered: its conversation, the node serving it, when it began. */
export interface LiveSession {
  conversationId: string;
  nodeId: string;
  /** When the session's conversation was first recorded, in Unix milliseconds. */
  startedAtMs: number;
}

/**
 * The register of live sessions: which node serves which conversation right now. A node adds a
 * session once its conversation is recorded and removes it once the last state is written. While it
 * runs, the node refreshes the heartbeat of all its sessions every few seconds (`heartbeat`). What a
 * crash interrupted is left behind: the node recovers its own at its next start, and any node
 * recovers the sessions whose heartbeat stopped (`listStale`), so a node that never comes back
 * leaves nothing in progress for ever.
 *
 * Heartbeat times are taken from the database's clock, never the node's, so nodes whose clocks
 * disagree still agree on which sessions are stale.
 */
export interface LiveSessionStore {
  /**
   * Registers a session under a node, its heartbeat fresh (registering a conversation again moves
   * it to this node).
   */
  register(conversationId: string, nodeId: string, startedAtMs: number): Promise<void>;
  /** Removes a session from the register; nothing happens if it is not there. */
  unregister(conversationId: string): Promise<void>;
  /** The sessions registered under a node, oldest first (ties by conversation id). */
  listByNode(nodeId: string): Promise<LiveSession[]>;
  /** Refreshes the heartbeat of every session registered under a node (one statement); returns how many. */
  heartbeat(nodeId: string): Promise<number>;
  /**
   * Sessions of other nodes than `exceptNodeId` (the caller, which is running) whose last heartbeat
   * is more than `olderThanMs` old by the database's clock, oldest heartbeat first, at most `limit`.
   * A session registered before heartbeats existed (an older version's node) has none and is never
   * listed: its own node recovers it at its start.
   */
  listStale(olderThanMs: number, exceptNodeId: string, limit: number): Promise<LiveSession[]>;
}
