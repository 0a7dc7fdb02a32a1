import type { FastifyReply, FastifyRequest } from "fastify";
import { CONVERSATION_SOCKET_PATH } from "../runtime/conversation-socket.js";
import { READINESS_PATH } from "./readiness-routes.js";

/**
 * Routes that still answer while the node stops: the health checks, the metrics (a drain is worth
 * watching), and the agent WebSocket (it closes new connections 1013 itself).
 */
export const ANSWERED_WHILE_STOPPING: ReadonlySet<string> = new Set([
  "/healthz",
  READINESS_PATH,
  "/metrics",
  CONVERSATION_SOCKET_PATH,
]);

/**
 * From SIGTERM until the server closes, a new request is answered 503 `shutting_down` in the API's
 * envelope with `Connection: close`, so the client (or the load balancer) retries it on another
 * node; requests already in flight finish. Returns the reply it sent, or undefined to go on.
 */
export function refuseWhileStopping(
  stopping: boolean,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply | undefined {
  if (!stopping) return undefined;
  const route = request.routeOptions.url ?? request.url.split("?")[0];
  if (route !== undefined && ANSWERED_WHILE_STOPPING.has(route)) return undefined;
  return reply
    .code(503)
    .header("connection", "close")
    .header("retry-after", "1")
    .send({
      detail: {
        status: "shutting_down",
        message: "The server is shutting down: send the request again (another node will answer it).",
      },
    });
}
