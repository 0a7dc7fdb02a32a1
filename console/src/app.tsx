/**
 * The console's frame: sign-in first, then the pages behind a navigation bar. Each page is its
 * own module under pages/; the URL is the state of a view (filters included), so a view can be
 * shared by its address.
 */
import { useCallback, useEffect, useState } from "react";
import { NavLink, Route, Routes } from "react-router";
import { forgetKey, setUnauthorizedHandler, storedKey } from "./api/client";
import { AgentEditPage } from "./pages/agent-edit";
import { AgentsPage } from "./pages/agents";
import { ConversationPage } from "./pages/conversation";
import { ConversationsPage } from "./pages/conversations";
import { MessagesPage } from "./pages/messages";
import { NotFoundPage } from "./pages/not-found";
import { OverviewPage } from "./pages/overview";
import { SignInPage } from "./pages/sign-in";
import { TalkPage } from "./pages/talk";
import { WebhooksPage } from "./pages/webhooks";

/** The navigation bar's pages. */
const NAV: readonly { to: string; label: string }[] = [
  { to: "/", label: "Overview" },
  { to: "/conversations", label: "Conversations" },
  { to: "/agents", label: "Agents" },
  { to: "/webhooks", label: "Webhooks" },
];

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
      </main>
    </>
  );
}
