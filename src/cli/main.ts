#!/usr/bin/env node
import { Command, Option } from "commander";
import { ConfigError } from "../config/config.js";
import { SchemaTooNewError } from "../store/store.js";
import { registerExportCommand } from "./export-command.js";
import { registerImportCommand } from "./import-command.js";
import { registerKeysCommand } from "./keys-command.js";
import { registerSeedCommand } from "./seed-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerSyncCommand } from "./sync-command.js";
import { registerWebhooksCommand } from "./webhooks-command.js";

/** Adds the storage flags every command takes. */
export function withStorageOptions(command: Command): Command {
  return command
    .addOption(new Option("--data <dir>", "data directory for SQLite and blobs").env("OPENCONVAI_DATA"))
    .addOption(
      new Option(
        "--database-url <url>",
        "postgres://… selects PostgreSQL; otherwise SQLite in the data dir",
      ).env("DATABASE_URL"),
    );
}

const program = new Command()
  .name("openconvai")
  .description("Self-hosted server for the ElevenLabs Agents Conversations API.")
  .showHelpAfterError();
registerServeCommand(program);
registerImportCommand(program);
registerExportCommand(program);
registerSyncCommand(program);
registerSeedCommand(program);
registerKeysCommand(program);
registerWebhooksCommand(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ConfigError || error instanceof SchemaTooNewError) {
    process.stderr.write(`openconvai: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
