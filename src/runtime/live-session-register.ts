import type { LiveSessionStore } from "../store/live-session-store.js";
import type { SessionLifecycle } from "./conversation-session.js";

/**
 * A node's register of its live sessions: a session is registered under the node's id once its
 * conversation is first recorded and removed once its last state is written. While the node runs,
 * `SessionHeartbeats` keeps its sessions' heartbeat fresh. What is still registered when the node
 * starts again was cut off by a crash (`recoverLiveSessions` finds it); what a node that never
 * comes back left, another node recovers once its heartbeat is stale (`recoverStaleSessions`).
 */
export class LiveSessionRegister implements SessionLifecycle {
  constructor(
    /** This node's id (OPENCONVAI_NODE_ID); every node on one database needs its own. */
    readonly nodeId: string,
    private readonly store: LiveSessionStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Registers the session under this node. */
  started(conversationId: string): Promise<void> {
    return this.store.register(conversationId, this.nodeId, this.now());
  }

  /** Removes the session from the register: nothing is left to recover. */
  ended(conversationId: string): Promise<void> {
    return this.store.unregister(conversationId);
  }
}
