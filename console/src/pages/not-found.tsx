/** Page not found (being built). */
import { usePageTitle } from "../components/page-title";

export function NotFoundPage() {
  usePageTitle("Page not found");
  return <h1>Page not found</h1>;
}
