/** Webhooks (being built). */
import { usePageTitle } from "../components/page-title";

export function WebhooksPage() {
  usePageTitle("Webhooks");
  return <h1>Webhooks</h1>;
}
