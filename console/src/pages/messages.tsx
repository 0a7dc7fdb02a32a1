/** Message search (being built). */
import { usePageTitle } from "../components/page-title";

export function MessagesPage() {
  usePageTitle("Message search");
  return <h1>Message search</h1>;
}
