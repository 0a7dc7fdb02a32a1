import type { FastifyInstance } from "fastify";
import type { WebhookSettingsService } from "../../webhooks-out/webhook-settings-service.js";
import { WEBHOOK_SETTINGS_BODY_LIMIT } from "./workspace-webhook-routes.js";

/** What the ConvAI settings routes use. */
export interface ConvaiSettingsRoutesDeps {
  settings: WebhookSettingsService;
}

/**
 * The workspace's ConvAI settings (`/v1/convai/settings`): GET answers the stored document with
 * `webhooks` defaulted; PATCH merges a body into it (top-level keys, and `webhooks` field by field)
 * and answers the new document. Bodies are checked by the settings service.
 */
export async function convaiSettingsRoutes(
  app: FastifyInstance,
  deps: ConvaiSettingsRoutesDeps,
): Promise<void> {
  const { settings } = deps;
  // The error handler answers a larger body with 413 payload_too_large, naming this limit.
  const bodyLimit = Math.min(
    WEBHOOK_SETTINGS_BODY_LIMIT,
    app.initialConfig.bodyLimit ?? WEBHOOK_SETTINGS_BODY_LIMIT,
  );

  app.get("/v1/convai/settings", async () => settings.getSettings());

  app.patch<{ Body: unknown }>(
    "/v1/convai/settings",
    { bodyLimit, config: { bodyName: "settings body" } },
    async (request) => settings.updateSettings(request.body),
  );
}
