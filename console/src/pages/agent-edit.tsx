/** Agent (being built). */
import { usePageTitle } from "../components/page-title";

export function AgentEditPage() {
  usePageTitle("Agent");
  return <h1>Agent</h1>;
}
