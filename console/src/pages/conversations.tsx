/** Conversations (being built). */
import { usePageTitle } from "../components/page-title";

export function ConversationsPage() {
  usePageTitle("Conversations");
  return <h1>Conversations</h1>;
}
