/** Conversation (being built). */
import { usePageTitle } from "../components/page-title";

export function ConversationPage() {
  usePageTitle("Conversation");
  return <h1>Conversation</h1>;
}
