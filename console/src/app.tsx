/**
 * The console's frame: sign-in first, then the pages behind a navigation bar. Each page is its
 * own module under pages/; the URL is the state of a view (filters included), so a view can be
 * shared by its address.
 */
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { NavLink, Route, Routes, useLocation } from "react-router";
import { forgetKey, setUnauthorizedHandler, storedKey } from "./api/client";
import { Loading } from "./components/status";
import { NotFoundPage } from "./pages/not-found";
import { OverviewPage } from "./pages/overview";
import { SignInPage } from "./pages/sign-in";

// The first page (the overview) and sign-in come with the app; every other page is its own chunk,
// loaded when it is first opened, so the first page has less to load and parse.
const ConversationsPage = lazy(() =>
  import("./pages/conversations").then((m) => ({ default: m.ConversationsPage })),
);
const ConversationPage = lazy(() =>
  import("./pages/conversation").then((m) => ({ default: m.ConversationPage })),
);
const MessagesPage = lazy(() => import("./pages/messages").then((m) => ({ default: m.MessagesPage })));
const AgentsPage = lazy(() => import("./pages/agents").then((m) => ({ default: m.AgentsPage })));
const AgentEditPage = lazy(() => import("./pages/agent-edit").then((m) => ({ default: m.AgentEditPage })));
const TalkPage = lazy(() => import("./pages/talk").then((m) => ({ default: m.TalkPage })));
const WebhooksPage = lazy(() => import("./pages/webhooks").then((m) => ({ default: m.WebhooksPage })));

/** The navigation bar's pages. */
const NAV: readonly { to: string; label: string }[] = [
  { to: "/", label: "Overview" },
  { to: "/conversations", label: "Conversations" },
  { to: "/agents", label: "Agents" },
  { to: "/webhooks", label: "Webhooks" },
];

/**
 * Moves focus to the page's content when the path changes (not on the first page, nor when only the
 * query changes, as filters do), so keyboard and screen-reader users land on the new page rather
 * than on the link they used.
 */
function useFocusOnNavigation(): void {
  const { pathname } = useLocation();
  const previous = useRef(pathname);
  useEffect(() => {
    if (previous.current === pathname) return;
    previous.current = pathname;
    const main = document.getElementById("main");
    const heading = main?.querySelector("h1");
    if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    (heading ?? main)?.focus({ preventScroll: false });
  }, [pathname]);
}

export function App() {
  const [signedIn, setSignedIn] = useState(() => storedKey() !== null);
  const [expired, setExpired] = useState(false);
  const signOut = useCallback(() => {
    forgetKey();
    setSignedIn(false);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      forgetKey();
      setExpired(true);
      setSignedIn(false);
    });
    return () => setUnauthorizedHandler(undefined);
  }, []);

  useFocusOnNavigation();

  if (!signedIn) {
    return (
      <SignInPage
        notice={expired ? "The server no longer accepts that key. Sign in with a current one." : undefined}
        onSignedIn={() => {
          setExpired(false);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">openconvai</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === "/"}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading what="the page" />}>
          <Routes>
            <Route path="/" element={<OverviewPage />} />
            <Route path="/conversations" element={<ConversationsPage />} />
            <Route path="/conversations/:conversationId" element={<ConversationPage />} />
            <Route path="/messages" element={<MessagesPage />} />
            <Route path="/agents" element={<AgentsPage />} />
            <Route path="/agents/new" element={<AgentEditPage />} />
            <Route path="/agents/:agentId" element={<AgentEditPage />} />
            <Route path="/agents/:agentId/talk" element={<TalkPage />} />
            <Route path="/webhooks" element={<WebhooksPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
