/** A live session a node has registered: its conversation, the node serving it, when it began. */
export interface LiveSession {
  conversationId: string;
  nodeId: string;
  /** When the session's conversation was first recorded, in Unix milliseconds. */
  startedAtMs: number;
}

/**
 * The register of live sessions: which node serves which conversation right now. A node adds a
 * session once its conversation is recorded and removes it once the last state is written; what
 * is left under a node's id after it stopped is what a crash interrupted, and that node recovers
 * it at its next start (so with several nodes on one database, each recovers only its own).
 */
export interface LiveSessionStore {
  /** Registers a session under a node (registering a conversation again moves it to this node). */
  register(conversationId: string, nodeId: string, startedAtMs: number): Promise<void>;
  /** Removes a session from the register; nothing happens if it is not there. */
  unregister(conversationId: string): Promise<void>;
  /** The sessions registered under a node, oldest first (ties by conversation id). */
  listByNode(nodeId: string): Promise<LiveSession[]>;
}
