// Types for scripts/start.mjs (plain JavaScript so that `npm start` needs no loader).

/** The argv for `openconvai serve` from what `npm start` passed on, or why npm's reading of it can't be used. */
export declare function serveArguments(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { args: string[]; error?: undefined } | { error: string; args?: undefined };
