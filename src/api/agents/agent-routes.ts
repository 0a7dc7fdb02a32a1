import type { FastifyInstance } from "fastify";
import { renderAgent, renderAgentSummary } from "../../agents/agent-document.js";
import type { AgentService } from "../../agents/agent-service.js";
import { NotFoundError } from "../../domain/errors.js";
import { type AgentIdParam, agentIdParams, integerParam } from "../path-params.js";
import { decodeSeqCursor, encodeSeqCursor } from "../seq-cursor.js";

/** What the agent routes use. */
export interface AgentRoutesDeps {
  agents: AgentService;
}

/** The longest `search` text a list takes. */
const MAX_SEARCH_LENGTH = 200;

/**
 * The largest body an agent route takes (2 MiB), or the server's JSON body limit if that is lower.
 * Upstream's agent configurations are a few KiB; a prompt or a knowledge-base list fits with room.
 */
export const AGENT_BODY_LIMIT = 2 * 1024 * 1024;

/** What a 413 of an agent route calls its body. */
const AGENT_BODY_NAME = "agent body";

/** The agent, or a NotFoundError (404 `agent_not_found` in upstream's envelope). */
function found<T>(agent: T | undefined, agentId: string): T {
  if (agent === undefined) {
    throw new NotFoundError(
      "agent",
      agentId,
      `Agent ${agentId} was not found. List the agents with GET /v1/convai/agents to find its id.`,
    );
  }
  return agent;
}

/**
 * The Agents API (`/v1/convai/agents…`): create, get, list, update (a deep merge), duplicate and
 * delete. Bodies are checked by the agent service, which stores them as sent; the query parameters
 * the SDK sends for versions and branches are accepted and ignored (one branch, no versions).
 */
export async function agentRoutes(app: FastifyInstance, deps: AgentRoutesDeps): Promise<void> {
  const { agents } = deps;
  // The error handler answers a larger body with 413 payload_too_large, naming this limit.
  const bodyLimit = Math.min(AGENT_BODY_LIMIT, app.initialConfig.bodyLimit ?? AGENT_BODY_LIMIT);
  const withBody = { bodyLimit, config: { bodyName: AGENT_BODY_NAME } };

  app.post<{ Body: unknown }>("/v1/convai/agents/create", withBody, async (request) => {
    const agent = await agents.createAgent(request.body);
    return { agent_id: agent.agentId };
  });

  app.get<{ Querystring: { page_size: number; cursor?: string; search?: string } }>(
    "/v1/convai/agents",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            page_size: integerParam({ minimum: 1, maximum: 100, default: 30 }),
            cursor: { type: "string", maxLength: 256 },
            search: { type: "string", maxLength: MAX_SEARCH_LENGTH },
          },
        },
      },
    },
    async (request) => {
      const { page_size: pageSize, cursor, search } = request.query;
      const before = cursor
        ? decodeSeqCursor(
            "agent",
            cursor,
            "Invalid cursor: pass the next_cursor of the previous page, or no cursor for the first.",
          )
        : null;
      const rows = await agents.listAgents(before, pageSize + 1, search);
      const hasMore = rows.length > pageSize;
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        agents: page.map(renderAgentSummary),
        next_cursor: hasMore && last ? encodeSeqCursor("agent", last.seq) : null,
        has_more: hasMore,
      };
    },
  );

  app.get<{ Params: AgentIdParam }>(
    "/v1/convai/agents/:agent_id",
    { schema: { params: agentIdParams } },
    async (request) => {
      const agent = await agents.getAgent(request.params.agent_id);
      return renderAgent(found(agent, request.params.agent_id));
    },
  );

  app.patch<{ Params: AgentIdParam; Body: unknown }>(
    "/v1/convai/agents/:agent_id",
    { ...withBody, schema: { params: agentIdParams } },
    async (request) => {
      const agent = await agents.updateAgent(request.params.agent_id, request.body);
      return renderAgent(found(agent, request.params.agent_id));
    },
  );

  app.delete<{ Params: AgentIdParam }>(
    "/v1/convai/agents/:agent_id",
    { schema: { params: agentIdParams } },
    async (request) => {
      const agent = await agents.deleteAgent(request.params.agent_id);
      found(agent, request.params.agent_id);
      return {};
    },
  );

  app.post<{ Params: AgentIdParam; Body: unknown }>(
    "/v1/convai/agents/:agent_id/duplicate",
    { ...withBody, schema: { params: agentIdParams } },
    async (request) => {
      const agent = await agents.duplicateAgent(request.params.agent_id, request.body);
      return { agent_id: found(agent, request.params.agent_id).agentId };
    },
  );
}
