/** A console address that names no page: say so, and lead back. */
import { Link } from "react-router";
import { usePageTitle } from "../components/page-title";

export function NotFoundPage() {
  usePageTitle("Page not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>
        The console has no page at this address. Go to the <Link to="/">overview</Link> or the{" "}
        <Link to="/conversations">conversations</Link>.
      </p>
    </>
  );
}
