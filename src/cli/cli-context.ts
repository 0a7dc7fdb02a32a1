import path from "node:path";
import { type Command, Option } from "commander";
import { type Config, maskDatabaseUrl, resolveConfig } from "../config/config.js";
import { openServices, type Services } from "../main.js";
import type { Workload } from "../store/sqlite/sqlite-database.js";

/** The storage flags every command takes, as commander hands them over. */
export interface StorageFlags {
  data?: string;
  databaseUrl?: string;
}

/** Adds the storage flags every command takes. */
export function withStorageOptions(command: Command): Command {
  return command
    .addOption(new Option("--data <dir>", "data directory for SQLite and blobs").env("OPENCONVAI_DATA"))
    .addOption(
      new Option(
        "--database-url <url>",
        "postgres://… selects PostgreSQL; sqlite:///path/file.sqlite a SQLite file; otherwise SQLite in the data dir",
      ).env("DATABASE_URL"),
    );
}

/** Runs a command body against the services opened for its flags, closing them afterwards. */
export async function withServices<T>(
  flags: StorageFlags,
  body: (services: Services) => Promise<T>,
  workload: Workload = "serve",
): Promise<T> {
  const services = await openServices(resolveConfig(flags), workload);
  try {
    return await body(services);
  } finally {
    await services.close();
  }
}

/** A command's way to be stopped: the signal to pass on, which signal stopped it, and the cleanup. */
export interface StopListener {
  /** Aborted (with "stopped by SIGINT", …) when the process is asked to stop. */
  signal: AbortSignal;
  /** The name of the signal that stopped the command, or undefined while it runs. */
  stopped: () => string | undefined;
  /** Stops listening (call it when the command ends). */
  dispose: () => void;
}

/**
 * Stops a long command (export, import) on SIGINT or SIGTERM: the first one aborts `signal`, so
 * the command can clean up and say what was done; a second one ends the process at once, as usual.
 */
export function listenForStop(): StopListener {
  const controller = new AbortController();
  let by: string | undefined;
  const stop = (name: string) => {
    by = name;
    controller.abort(new Error(`stopped by ${name}`));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    signal: controller.signal,
    stopped: () => by,
    dispose: () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}

/** Quotes an argument for a POSIX shell, only when it needs it. */
function quoteArgument(value: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * A command to suggest, in backticks, repeating the storage flags in use so it reaches the same
 * data (`npx openconvai seed --demo --data /srv/oc`). A PostgreSQL password is never printed: the
 * hint says to put it where `***` is; a URL that does not parse is shown as `<your URL>`; a URL
 * that came from DATABASE_URL (`env`) is not repeated as a flag at all, where `ps` and the shell
 * history would keep it: the variable reaches the suggested command as it reached this one.
 */
export function suggestCommand(
  config: Pick<Config, "dataDir" | "databaseUrl" | "sqliteFile">,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  const words = ["npx", "openconvai", ...args];
  // The default data dir is ./data of the directory the command runs in, like the one suggested.
  if (config.dataDir !== path.resolve("data")) words.push("--data", config.dataDir);
  let placeholder = "";
  let note = "";
  if (config.databaseUrl && env.DATABASE_URL === config.databaseUrl) {
    note = " (with DATABASE_URL set, as for this command)";
  } else if (config.databaseUrl) {
    const shown = maskDatabaseUrl(config.databaseUrl);
    if (shown === undefined) {
      // Not a URL the parser reads, so where its password ends is unknown: none of it is shown.
      placeholder = " --database-url <your URL>";
    } else {
      if (shown !== config.databaseUrl) note = " (with the database password where *** is)";
      words.push("--database-url", shown);
    }
  } else if (config.sqliteFile) {
    words.push("--database-url", `sqlite://${config.sqliteFile}`);
  }
  return `\`${words.map(quoteArgument).join(" ")}${placeholder}\`${note}`;
}
