import type { FastifyInstance } from "fastify";
import type { DeliveryStatus } from "../../store/outgoing-webhook-store.js";
import type { DeliveryLog } from "../../webhooks-out/delivery-log.js";
import { ID_SCHEMA, idParams, integerParam } from "../path-params.js";

/** What the delivery-log routes use. */
export interface WebhookDeliveryRoutesDeps {
  deliveries: DeliveryLog;
}

/** Where the log of outgoing webhook deliveries is served. */
export const DELIVERIES_PATH = "/v1/workspace/webhooks/deliveries";

/** The statuses a delivery can have, as the `status` filter takes them. */
const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "delivered", "failed", "cancelled"];

/** A `since` time: Unix seconds, an ISO-8601 time or a time ago (`24h`); the delivery log reads it. */
const SINCE = { type: "string", minLength: 1, maxLength: 64 } as const;

const deliveryParams = idParams("delivery_id");

/** The parsed `{delivery_id}` parameter. */
interface DeliveryIdParam {
  delivery_id: string;
}

/** The log's query string, as the route schema leaves it. */
interface DeliveryListQuerystring {
  status?: DeliveryStatus;
  webhook_id?: string;
  conversation_id?: string;
  since?: string;
  cursor?: string;
  page_size: number;
}

/** The body of a replay by filter. */
interface RedeliverBody {
  status?: "failed";
  since?: string;
  webhook_id?: string;
}

/**
 * The log of outgoing webhook deliveries and their replay (`/v1/workspace/webhooks/deliveries…`),
 * an extension of ours: upstream has no delivery log. Listing, one delivery with its attempts,
 * and queueing again one delivery or every delivery matching a filter (at least one filter, so a
 * stray call cannot replay the whole log). A replay is sent at once by this node's sender.
 */
export async function webhookDeliveryRoutes(
  app: FastifyInstance,
  deps: WebhookDeliveryRoutesDeps,
): Promise<void> {
  const { deliveries } = deps;

  app.get<{ Querystring: DeliveryListQuerystring }>(
    DELIVERIES_PATH,
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            status: { type: "string", enum: DELIVERY_STATUSES },
            webhook_id: ID_SCHEMA,
            conversation_id: ID_SCHEMA,
            since: SINCE,
            cursor: { type: "string", maxLength: 256 },
            page_size: integerParam({ minimum: 1, maximum: 100, default: 30 }),
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return deliveries.list({
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.webhook_id !== undefined ? { webhookId: q.webhook_id } : {}),
        ...(q.conversation_id !== undefined ? { conversationId: q.conversation_id } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        pageSize: q.page_size,
      });
    },
  );

  app.get<{ Params: DeliveryIdParam }>(
    `${DELIVERIES_PATH}/:delivery_id`,
    { schema: { params: deliveryParams } },
    async (request) => deliveries.get(request.params.delivery_id),
  );

  app.post<{ Params: DeliveryIdParam }>(
    `${DELIVERIES_PATH}/:delivery_id/redeliver`,
    { schema: { params: deliveryParams } },
    async (request) => deliveries.redeliver(request.params.delivery_id),
  );

  app.post<{ Body: RedeliverBody }>(
    `${DELIVERIES_PATH}/redeliver`,
    {
      schema: {
        body: {
          type: "object",
          properties: {
            status: { type: "string", enum: ["failed"] },
            since: SINCE,
            webhook_id: ID_SCHEMA,
          },
          // Refused rather than dropped (the validator removes keys `additionalProperties` refuses):
          // a filter misspelt and ignored would replay more than was asked for.
          propertyNames: { enum: ["status", "since", "webhook_id"] },
        },
      },
    },
    async (request) => {
      const { status, since, webhook_id: webhookId } = request.body;
      return deliveries.redeliverMatching({
        ...(status !== undefined ? { status } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(webhookId !== undefined ? { webhookId } : {}),
      });
    },
  );
}
