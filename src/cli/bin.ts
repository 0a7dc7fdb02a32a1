#!/usr/bin/env node
import { ConfigError } from "../config/config-error.js";
import { SchemaTooNewError } from "../store/store.js";
import { buildProgram } from "./program.js";

// The one place argv is read. A configuration or schema the command cannot use is one line and
// exit 2; anything else is a bug, shown with its stack.
try {
  await buildProgram().parseAsync();
} catch (error) {
  if (error instanceof ConfigError || error instanceof SchemaTooNewError) {
    process.stderr.write(`openconvai: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
