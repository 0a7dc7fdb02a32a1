import type { FastifyInstance } from "fastify";
import type { WebhookSettingsService } from "../../webhooks-out/webhook-settings-service.js";
import { idParams } from "../path-params.js";

/** What the workspace webhook routes use. */
export interface WorkspaceWebhookRoutesDeps {
  settings: WebhookSettingsService;
}

/**
 * The largest body a webhook or settings route takes (64 KiB), or the server's JSON body limit if
 * that is lower: a name, a URL and a few headers.
 */
export const WEBHOOK_SETTINGS_BODY_LIMIT = 64 * 1024;

/** `{webhook_id}`. */
const webhookIdParams = idParams("webhook_id");

/** The parsed `{webhook_id}` parameter. */
interface WebhookIdParam {
  webhook_id: string;
}

/**
 * The workspace's webhooks (`/v1/workspace/webhooks…`): create (the answer is the only place the
 * signing secret is shown), list, update, delete. Bodies are checked by the settings service.
 */
export async function workspaceWebhookRoutes(
  app: FastifyInstance,
  deps: WorkspaceWebhookRoutesDeps,
): Promise<void> {
  const { settings } = deps;
  // The error handler answers a larger body with 413 payload_too_large, naming this limit.
  const bodyLimit = Math.min(
    WEBHOOK_SETTINGS_BODY_LIMIT,
    app.initialConfig.bodyLimit ?? WEBHOOK_SETTINGS_BODY_LIMIT,
  );
  const withBody = { bodyLimit, config: { bodyName: "webhook body" } };

  app.get<{ Querystring: { include_usages: boolean } }>(
    "/v1/workspace/webhooks",
    {
      schema: {
        querystring: {
          type: "object",
          properties: { include_usages: { type: "boolean", default: false } },
        },
      },
    },
    async (request) => settings.listWebhooks(request.query.include_usages),
  );

  app.post<{ Body: unknown }>("/v1/workspace/webhooks", withBody, async (request) =>
    settings.createWebhook(request.body),
  );

  app.patch<{ Params: WebhookIdParam; Body: unknown }>(
    "/v1/workspace/webhooks/:webhook_id",
    { ...withBody, schema: { params: webhookIdParams } },
    async (request) => settings.updateWebhook(request.params.webhook_id, request.body),
  );

  app.delete<{ Params: WebhookIdParam }>(
    "/v1/workspace/webhooks/:webhook_id",
    { schema: { params: webhookIdParams } },
    async (request) => settings.deleteWebhook(request.params.webhook_id),
  );
}
