/** Overview (being built). */
import { usePageTitle } from "../components/page-title";

export function OverviewPage() {
  usePageTitle("Overview");
  return <h1>Overview</h1>;
}
