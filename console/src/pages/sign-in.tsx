/** Sign-in: the API key, checked against the server, kept for this tab. */
import { type FormEvent, useId, useState } from "react";
import { ApiError, api, storeKey } from "../api/client";
import { usePageTitle } from "../components/page-title";

export interface SignInPageProps {
  /** Shown above the form (why the user is here again). */
  notice?: string;
  onSignedIn: () => void;
}

export function SignInPage({ notice, onSignedIn }: SignInPageProps) {
  usePageTitle("Sign in");
  const keyId = useId();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError(
        "Enter an API key. `npm start` prints one on the first start; `npx openconvai keys create` makes another.",
      );
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Any read the key allows proves it; one conversation is the cheapest.
      await api("GET", "/v1/convai/conversations", { query: { page_size: 1 }, key: candidate });
      storeKey(candidate);
      onSignedIn();
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401
          ? "That key was not accepted. Check it, or make a new one with `npx openconvai keys create` in the server's folder."
          : e instanceof Error
            ? e.message
            : String(e),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>openconvai</h1>
      <p>Sign in with an API key of this server.</p>
      {notice && <p className="notice">{notice}</p>}
      <form onSubmit={submit} noValidate>
        <label htmlFor={keyId}>API key</label>
        <input
          id={keyId}
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? `${keyId}-error` : undefined}
        />
        {error && (
          <p id={`${keyId}-error`} className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
