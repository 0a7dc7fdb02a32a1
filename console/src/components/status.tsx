/** Small shared pieces of the pages: loading and error lines, the success badge. */

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorLine({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}

/** `call_successful` as a badge: success, failure, unknown. */
export function SuccessBadge({ value }: { value: string | null | undefined }) {
  const v = value ?? "unknown";
  const kind = v === "success" ? "success" : v === "failure" ? "failure" : "";
  return <span className={`badge ${kind}`}>{v}</span>;
}
