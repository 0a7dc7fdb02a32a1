/**
 * Webhooks: the workspace's webhook endpoints, the post-call settings that pick one of them, and
 * the log of deliveries with their attempts and replay. The log's filters live in the URL's query.
 */
import { api } from "../api/client";
import { usePageTitle } from "../components/page-title";
import { ErrorLine, Loading } from "../components/status";
import { useApi } from "../components/use-api";
import { WebhookDeliveries } from "../components/webhooks-deliveries";
import { type Webhook, WebhookEndpoints } from "../components/webhooks-endpoints";
import { WebhookSettings } from "../components/webhooks-settings";
import "./webhooks.css";

export function WebhooksPage() {
  usePageTitle("Webhooks");
  const list = useApi(
    (signal) =>
      api<{ webhooks: Webhook[] }>("GET", "/v1/workspace/webhooks", {
        query: { include_usages: true },
        signal,
      }),
    [],
  );
  const webhooks = list.data?.webhooks ?? [];

  return (
    <div className="webhooks-page">
      <h1>Webhooks</h1>
      <p className="muted">
        When a conversation ends, the server sends it to the post-call webhook, signed with that webhook's
        secret.
      </p>
      {/* A failed reload shows its error above the sections and keeps them (and a new webhook's
          one-time secret) on the page. */}
      {list.error ? <ErrorLine error={`${list.error} Reload the page to try again.`} /> : null}
      {list.data === undefined ? (
        list.error ? null : (
          <Loading what="the webhooks" />
        )
      ) : (
        <>
          <WebhookEndpoints webhooks={webhooks} onChanged={list.reload} />
          <WebhookSettings webhooks={webhooks} onSaved={list.reload} />
          <WebhookDeliveries webhooks={webhooks} />
        </>
      )}
    </div>
  );
}
