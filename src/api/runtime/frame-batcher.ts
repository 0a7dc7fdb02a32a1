import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * Most bytes queued for a client before the session is given up: a client that stops reading
 * (while the agent speaks, audio is sent faster than it plays) must not grow the server's memory.
 */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** What happens when a client lets more than `maxQueuedBytes` pile up: the frame is not sent. */
export interface BacklogLimit {
  maxQueuedBytes: number;
  /** Called once, when the limit is first passed (the caller closes the session). */
  onOverflow: () => void;
}

/**
 * Sends a session's frames so that those produced in one tick of the event loop leave in one
 * write: the first frame of a tick corks the connection and a `process.nextTick` uncorks it once
 * the tick's work (all its promise callbacks included) is done. An agent's reply is several frames
 * at once (the response parts, `agent_response`, audio), and one system call each was a large
 * part of a live session's CPU. ws offers no batching of its own, so this reaches its underlying
 * socket; without one (a socket that is not a net socket), frames go out one by one. Frames are
 * not sent once the client has more than the backlog limit waiting.
 */
export function frameSender(
  socket: WebSocket,
  limit: BacklogLimit = { maxQueuedBytes: MAX_QUEUED_BYTES, onOverflow: () => undefined },
): (text: string) => void {
  let overflowed = false;
  const guarded = (text: string) => {
    if (overflowed) return;
    if (socket.bufferedAmount > limit.maxQueuedBytes) {
      overflowed = true;
      limit.onOverflow();
      return;
    }
    socket.send(text);
  };
  const connection = (socket as unknown as { _socket?: Duplex })._socket;
  if (!connection || typeof connection.cork !== "function") return guarded;
  let corked = false;
  const uncork = () => {
    corked = false;
    connection.uncork();
  };
  return (text) => {
    if (!corked && !connection.destroyed) {
      corked = true;
      connection.cork();
      process.nextTick(uncork);
    }
    guarded(text);
  };
}
