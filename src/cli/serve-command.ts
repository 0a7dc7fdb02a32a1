import { type Command, Option } from "commander";
import { resolveConfig } from "../config/config.js";
import { createLogger, startServer } from "../main.js";
import { withStorageOptions } from "./cli-context.js";

/** `openconvai serve`: runs the API until SIGTERM or SIGINT, then shuts down gracefully. */
export function registerServeCommand(program: Command): void {
  withStorageOptions(
    program
      .command("serve", { isDefault: true })
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
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
        process.stderr.write(
          `openconvai: port ${config.port} on ${config.host} is in use. Stop the other server or pass --port <n>.\n`,
        );
        process.exit(2);
      }
      throw error;
    }
    const backend = server.services.db.kind === "sqlite" ? `SQLite in ${config.dataDir}` : "PostgreSQL";
    process.stderr.write(`openconvai is serving the Conversations API on ${server.url} (${backend}).\n`);
    if (server.firstStartKey) {
      const key = server.firstStartKey.secret;
      process.stderr.write(
        "\nNo API key existed, so one was created. It is shown only this once; keep it:\n\n" +
          `  ${key}\n\n` +
          "Try it:\n\n" +
          `  curl -H 'xi-api-key: ${key}' '${server.url}/v1/convai/conversations?page_size=5'\n\n` +
          "Load demo conversations with `npx openconvai seed --demo`.\n\n",
      );
    }
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
