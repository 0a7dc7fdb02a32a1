import { Command } from "commander";
import { registerExportCommand } from "./export-command.js";
import { registerImportCommand } from "./import-command.js";
import { registerKeysCommand } from "./keys-command.js";
import { registerSeedCommand } from "./seed-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerSyncCommand } from "./sync-command.js";
import { registerWebhooksCommand } from "./webhooks-command.js";

/**
 * Builds the `openconvai` command line with every command registered. Nothing is parsed or run:
 * the bin entry parses process.argv, and a test can parse arguments of its own.
 */
export function buildProgram(): Command {
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
  return program;
}
