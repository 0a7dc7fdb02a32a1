import { BlockList, isIP } from "node:net";

/**
 * Which addresses a webhook may be sent to. Private, loopback, link-local, unique-local, CGNAT,
 * multicast and unspecified addresses are refused unless OPENCONVAI_WEBHOOK_ALLOW_PRIVATE allows
 * them: anyone with an API key could otherwise make the server call into its own network.
 */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  // The unspecified and loopback addresses, and the deprecated IPv4-compatible ones (::a.b.c.d).
  ["::", 96],
  ["::1", 128],
  // Local-use NAT64 (RFC 8215): a network's own translator.
  ["64:ff9b:1::", 48],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv6");
}

/** The well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d reaches a.b.c.d through the translator. */
const NAT64 = new BlockList();
NAT64.addSubnet("64:ff9b::", 96, "ipv6");

/** The IPv4 address in the last 32 bits of an IPv6 address (dotted or as two hex groups); undefined if unreadable. */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1]) return dotted[1];
  const groups = /:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!groups?.[1] || !groups[2]) return undefined;
  const high = Number.parseInt(groups[1], 16);
  const low = Number.parseInt(groups[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/**
 * Whether an IP address (v4 or v6, IPv4-mapped and NAT64 v6 included) is one a webhook may not
 * reach by default.
 */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return PRIVATE.check(mapped[1], "ipv4");
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, "ipv4");
  if (family !== 6) return false;
  if (PRIVATE.check(address, "ipv6")) return true;
  if (NAT64.check(address, "ipv6")) {
    const inner = embeddedIpv4(address);
    return inner === undefined || PRIVATE.check(inner, "ipv4");
  }
  return false;
}

/**
 * Checks a webhook URL as given to the API: http(s), no credentials, and (unless `allowPrivate`)
 * not a private or loopback address literal nor `localhost`. Names are checked again when they
 * are resolved, at each attempt. Returns what is wrong, with what to do, or undefined when it is fine.
 */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "webhook_url must be an absolute http(s) URL, such as https://example.com/webhooks/elevenlabs";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `webhook_url must use http or https, not ${url.protocol.replace(/:$/, "")}`;
  }
  if (url.username !== "" || url.password !== "") {
    return "webhook_url must not include a user name or password: put credentials in request_headers";
  }
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || isPrivateAddress(host)) {
    return (
      `webhook_url points at a private or loopback address (${host}), which is refused by default: ` +
      "use a public address, or set OPENCONVAI_WEBHOOK_ALLOW_PRIVATE=true on the server to allow it"
    );
  }
  return undefined;
}
