import { existsSync } from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { resolveConfig } from "../config/config.js";
import { createLogger, startServer } from "../main.js";
import { suggestCommand, withStorageOptions } from "./cli-context.js";

/** The one line for a port or address `serve` cannot listen on, or undefined for another error. */
function describeListenError(error: unknown, host: string, port: number): string | undefined {
  switch ((error as NodeJS.ErrnoException).code) {
    case "EADDRINUSE":
      return `port ${port} on ${host} is in use. Stop the other server or pass --port <n>.`;
    case "EACCES":
      return `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges): pass --port 1024 or above, e.g. --port 8787.`;
    case "EADDRNOTAVAIL":
      return `${host} is not an address of this machine: pass --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `the host name ${host} could not be resolved: pass --host with an address of this machine, e.g. 127.0.0.1 or 0.0.0.0.`;
    default:
      return undefined;
  }
}

/** `openconvai serve`: runs the API until SIGTERM or SIGINT, then shuts down gracefully. */
export function registerServeCommand(program: Command): void {
  withStorageOptions(
    program
      .command("serve")
      .description("serve the Conversations API")
      .addOption(
        new Option("--host <host>", "address to listen on (default 127.0.0.1)").env("OPENCONVAI_HOST"),
      )
      .addOption(new Option("--port <port>", "port to listen on (default 8787)").env("OPENCONVAI_PORT")),
  ).action(async (flags) => {
    const config = resolveConfig(flags);
    const logger = createLogger(config);
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(config, logger);
    } catch (error) {
      const line = describeListenError(error, config.host, config.port);
      if (line === undefined) throw error;
      process.stderr.write(`openconvai: ${line}\n`);
      process.exit(2);
    }
    const backend =
      server.services.db.kind === "postgres"
        ? `PostgreSQL; blobs in ${config.dataDir}`
        : config.sqliteFile
          ? `SQLite at ${config.sqliteFile}; blobs in ${config.dataDir}`
          : `SQLite in ${config.dataDir}`;
    process.stderr.write(`openconvai is serving the Conversations API on ${server.url} (${backend}).\n`);
    const consoleBuilt = existsSync(path.join(config.consoleDir, "index.html"));
    process.stderr.write(
      consoleBuilt
        ? `The console: ${server.url}/ (sign in with an API key).\n`
        : `The console is not built (${config.consoleDir} has no index.html): run \`npm run build\`, then start again.\n`,
    );
    const hints: string[] = [];
    if (server.firstStartKey) {
      const key = server.firstStartKey.secret;
      hints.push(
        "No API key existed, so one was created. It is shown only this once; keep it:\n\n" +
          `  ${key}\n\n` +
          (consoleBuilt
            ? `Open the console at ${server.url}/ and sign in with it, or try it with curl:\n\n`
            : "Try it:\n\n") +
          `  curl -H 'xi-api-key: ${key}' '${server.url}/v1/convai/conversations?page_size=5'`,
      );
    }
    // Demo data is suggested only to an empty database (one row looked for, not a count of
    // millions), with the flags that reach this one.
    if ((await server.services.db.conversations.scanConversations(null, 1)).length === 0) {
      hints.push(
        `No conversations yet. Load demo conversations with ${suggestCommand(config, ["seed", "--demo"])}.`,
      );
    }
    if (hints.length > 0) process.stderr.write(`\n${hints.join("\n\n")}\n\n`);
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "shutting down: finishing in-flight requests");
      server.stop().then(
        () => logger.flush(() => process.exit(0)),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
  });
}
