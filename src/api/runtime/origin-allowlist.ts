/**
 * A public agent's Origin allowlist (`platform_settings.auth.allowlist`, items `{ hostname }`).
 * Only hostnames are compared, case-insensitively: an entry written with a scheme or a port
 * (`https://app.example.com`, `localhost:3000`) counts as its hostname, and the Origin's scheme and
 * port are ignored. Exact hostnames only, no wildcards. A connection without an Origin header (a
 * server-side client) passes unless `require_origin_header` is true, as upstream documents; the
 * Origin only restricts browsers, which always send it and cannot forge it.
 */

/** The hostname an allowlist entry or an Origin names, lowercased; undefined when it names none. */
export function hostnameOf(value: string): string | undefined {
  const text = value.trim();
  if (text === "") return undefined;
  try {
    const hostname = new URL(text.includes("://") ? text : `http://${text}`).hostname.toLowerCase();
    return hostname === "" ? undefined : hostname;
  } catch {
    return undefined;
  }
}

/** The agent's allowlisted hostnames (none when the agent has no allowlist). */
export function allowlistOf(platformSettings: Record<string, unknown> | null): {
  hostnames: Set<string>;
  requireOrigin: boolean;
} {
  const auth = platformSettings?.auth as Record<string, unknown> | undefined;
  const items = Array.isArray(auth?.allowlist) ? (auth.allowlist as unknown[]) : [];
  const hostnames = new Set<string>();
  for (const item of items) {
    const hostname = (item as { hostname?: unknown } | null)?.hostname;
    const parsed = typeof hostname === "string" ? hostnameOf(hostname) : undefined;
    if (parsed) hostnames.add(parsed);
  }
  return { hostnames, requireOrigin: auth?.require_origin_header === true };
}

/** Longest Origin quoted in a refusal, so the advice after it fits a close reason (123 bytes). */
const MAX_QUOTED_ORIGIN = 29;

/**
 * Why a connection's Origin is refused by the agent's allowlist, or undefined when it may connect.
 * Callers skip this for connections authenticated by a signature or an API key.
 */
export function originRefusal(
  platformSettings: Record<string, unknown> | null,
  origin: string | string[] | undefined,
): string | undefined {
  const { hostnames, requireOrigin } = allowlistOf(platformSettings);
  if (hostnames.size === 0) return undefined;
  const given = Array.isArray(origin) ? origin[0] : origin;
  if (given === undefined || given === "") {
    return requireOrigin
      ? "Origin header required: this agent has an allowlist; connect from an allowed site, a signed URL or an xi-api-key"
      : undefined;
  }
  const hostname = given.includes("://") ? hostnameOf(given) : undefined;
  if (hostname && hostnames.has(hostname)) return undefined;
  const shown = given.length > MAX_QUOTED_ORIGIN ? `${given.slice(0, MAX_QUOTED_ORIGIN - 3)}...` : given;
  return `Origin ${shown} is not on this agent's allowlist: add its hostname to platform_settings.auth.allowlist`;
}
