import { type Command, Option } from "commander";
import { resolveConfig } from "../config/config.js";
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
        "postgres://… selects PostgreSQL; otherwise SQLite in the data dir",
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
