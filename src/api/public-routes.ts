/**
 * The routes the API-key hook lets through without a key, by method and matched route (never by
 * the raw URL, so a path that merely looks like one of them is not let through). A GET route is
 * public for HEAD too, as Fastify serves HEAD from it.
 */
export class PublicRoutes {
  private readonly keys = new Set<string>();

  /** Serves a route without an API key. */
  add(method: string | string[], url: string): void {
    for (const m of Array.isArray(method) ? method : [method]) {
      this.keys.add(`${m.toUpperCase()} ${url}`);
      if (m.toUpperCase() === "GET") this.keys.add(`HEAD ${url}`);
    }
  }

  /** Whether a request's method and matched route are served without a key. */
  has(method: string, routeUrl: string | undefined): boolean {
    return routeUrl !== undefined && this.keys.has(`${method.toUpperCase()} ${routeUrl}`);
  }

  /** Every public route, as `METHOD /url`, sorted (for tests and docs). */
  list(): string[] {
    return [...this.keys].sort();
  }
}
