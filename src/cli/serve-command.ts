import { existsSync } from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { describeBlobLocation } from "../config/blob-config.js";
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

/**
 * What `server.stop()` is budgeted after the grace period: up to 5 s for the ended sessions' last
 * writes and up to 5 s sending the webhooks that are due (the attempts then in flight and the
 * database closing usually add a few seconds).
 */
export const STOP_BUDGET_MS = 10_000;

/** Past the budget, how long a stop may still take before the process exits 1 regardless. */
export const STOP_HARD_MARGIN_MS = 10_000;

/** `openconvai serve`: runs the API until SIGTERM or SIGINT, then drains and shuts down gracefully. */
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
    const blobsAt = describeBlobLocation(config.blobs, config.dataDir);
    const backend =
      server.services.db.kind === "postgres"
        ? `PostgreSQL; blobs in ${blobsAt}`
        : config.sqliteFile
          ? `SQLite at ${config.sqliteFile}; blobs in ${blobsAt}`
          : config.blobs.kind === "s3"
            ? `SQLite in ${config.dataDir}; blobs in ${blobsAt}`
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
    // The first SIGTERM/SIGINT drains: new sessions and requests are refused, live sessions go on
    // for the grace period; a second one ends the grace at once. Then the server stops (the
    // remaining sessions end with 1001, recordings and due webhooks are flushed) and exits 0. A
    // signal once the stop has begun, or a stop that overruns its hard limit, exits 1 at once.
    let signals = 0;
    let stopping = false;
    let endGrace = () => {};
    const graceCut = new Promise<void>((resolve) => {
      endGrace = resolve;
    });
    const exitNow = (message: string, fields: Record<string, unknown>) => {
      logger.error(fields, message);
      logger.flush(() => process.exit(1));
      // A log write that never completes must not keep the process up.
      setTimeout(() => process.exit(1), 1_000).unref();
    };
    const shutdown = (signal: string) => {
      signals += 1;
      if (stopping) {
        exitNow("shutting down: signal during the stop, exiting at once (work in flight is abandoned)", {
          signal,
        });
        return;
      }
      if (signals > 1) {
        logger.info({ signal }, "shutting down: grace period ended early");
        endGrace();
        return;
      }
      logger.info(
        { signal, graceSecs: config.live.shutdownGraceSecs },
        "shutting down: refusing new work, letting live sessions finish",
      );
      server
        .drain({ cut: graceCut })
        .then(async (left) => {
          logger.info({ liveSessions: left }, "shutting down: ending the remaining sessions, flushing");
          stopping = true;
          const limitMs = STOP_BUDGET_MS + STOP_HARD_MARGIN_MS;
          setTimeout(
            () => exitNow("shutting down: the stop overran its hard limit, exiting at once", { limitMs }),
            limitMs,
          ).unref();
          await server.stop();
        })
        .then(
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
