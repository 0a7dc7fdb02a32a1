/** Talk (being built). */
import { usePageTitle } from "../components/page-title";

export function TalkPage() {
  usePageTitle("Talk");
  return <h1>Talk</h1>;
}
