/** Agents (being built). */
import { usePageTitle } from "../components/page-title";

export function AgentsPage() {
  usePageTitle("Agents");
  return <h1>Agents</h1>;
}
