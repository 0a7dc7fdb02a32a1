#!/usr/bin/env node
// `npm start`: serves the API from dist/ at once, building first only when the build is out of
// date (scripts/build.mjs says when). It runs the server in this same process, so signals and the
// exit code are the server's own.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { buildProject, findStaleBuildReason, PROJECT_ROOT } from "./build.mjs";

/** The serve options npm takes for itself when they come before `--` (it sets npm_config_<name>). */
const SERVE_OPTIONS = ["port", "host", "data", "database-url"];

/**
 * The argv for `openconvai serve` from what `npm start` passed on. What follows `--` is kept as
 * given. An option npm took for itself is given back: `npm start --port=8797` leaves only
 * npm_config_port=8797; `npm start --port 8797` leaves npm_config_port=true and `8797` as an
 * argument, so a leading number is the port. Any other option npm swallowed whole is an error
 * that says how to pass it. Returns `{ args }` or `{ error }`.
 */
export function serveArguments(args, env) {
  const options = [];
  const rest = [...args];
  const given = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  for (const name of SERVE_OPTIONS) {
    const flag = `--${name}`;
    const value = env[`npm_config_${name.replaceAll("-", "_")}`];
    if (value === undefined || value === "" || given(flag)) continue;
    if (value !== "true") {
      options.push(flag, value);
    } else if (name === "port" && /^\d+$/.test(rest[0] ?? "")) {
      options.push(flag, rest.shift());
    } else {
      return { error: `npm kept ${flag} for itself. Pass it after \`--\`: npm start -- ${flag} <value>` };
    }
  }
  return { args: ["serve", ...options, ...rest] };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const parsed = serveArguments(process.argv.slice(2), process.env);
  if (parsed.error) {
    process.stderr.write(`openconvai: ${parsed.error}\n`);
    process.exit(2);
  }
  const reason = findStaleBuildReason(PROJECT_ROOT);
  if (reason !== undefined) {
    process.stderr.write(`openconvai: building first (${reason})…\n`);
    if (!buildProject(PROJECT_ROOT)) {
      process.stderr.write("openconvai: the build failed; fix the errors above, then `npm start` again.\n");
      process.exit(1);
    }
  }
  const bin = path.join(PROJECT_ROOT, "dist", "cli", "bin.js");
  process.argv = [process.argv[0] ?? process.execPath, bin, ...parsed.args];
  await import(pathToFileURL(bin).href);
}
