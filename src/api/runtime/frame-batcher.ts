import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * Sends a session's frames so that those produced in one tick of the event loop leave in one
 * write: the first frame of a tick corks the connection and a `process.nextTick` uncorks it once
 * the tick's work (all its promise callbacks included) is done. An agent's reply is several frames
 * at once (the response parts, `agent_response`, later audio), and one system call each was a
 * large part of a live session's CPU. ws offers no batching of its own, so this reaches its
 * underlying socket; without one (a socket that is not a net socket), frames go out one by one.
 */
export function frameSender(socket: WebSocket): (text: string) => void {
  const connection = (socket as unknown as { _socket?: Duplex })._socket;
  if (!connection || typeof connection.cork !== "function") return (text) => socket.send(text);
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
    socket.send(text);
  };
}
