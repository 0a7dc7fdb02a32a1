import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { suggestCommand } from "../src/cli/cli-context.js";
import { resolveConfig } from "../src/config/config.js";
import { loadDemoConversations } from "../src/ingest/demo-conversations.js";
import { openServices } from "../src/main.js";
import { runCli } from "./support/run-cli.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A `serve` child whose stderr is watched for text. */
interface ServeRun {
  child: ChildProcess;
  stderr(): string;
  /** Resolves once stderr contains `text`; fails with what was printed if it never does. */
  waitFor(text: string): Promise<void>;
}

const running: ChildProcess[] = [];

function startServe(args: string[], extraEnv: NodeJS.ProcessEnv = {}): ServeRun {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  delete env.DATABASE_URL;
  delete env.OPENCONVAI_DATA;
  delete env.OPENCONVAI_BOOTSTRAP_KEY;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/bin.ts", "serve", "--port", "0", ...args],
    {
      cwd: REPO,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  running.push(child);
  let stderr = "";
  const waiters: (() => void)[] = [];
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    child,
    stderr: () => stderr,
    waitFor: async (text) => {
      const deadline = Date.now() + 25_000;
      while (!stderr.includes(text)) {
        const more = new Promise<void>((resolve) => waiters.push(resolve));
        const late = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));
        await Promise.race([more, late, exited]);
        if (!stderr.includes(text) && (Date.now() >= deadline || child.exitCode !== null)) {
          throw new Error(`serve never printed ${JSON.stringify(text)}; it printed:\n${stderr}`);
        }
      }
    },
  };
}

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "openconvai-hints-"));
});

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null) {
      const gone = new Promise((resolve) => child.on("close", resolve));
      child.kill("SIGTERM");
      await gone;
    }
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("the hints serve prints at start", () => {
  it("the demo-data hint repeats --data, so it seeds the database this server uses", async () => {
    const dataDir = path.join(root, "empty");
    const run = startServe(["--data", dataDir]);
    await run.waitFor("seed --demo");
    expect(run.stderr()).toContain(`npx openconvai seed --demo --data ${dataDir}\``);
  });

  it("no demo-data hint when the database holds conversations (the key hint still shows)", async () => {
    const dataDir = path.join(root, "with-conversations");
    const services = await openServices(resolveConfig({ data: dataDir }, {}));
    try {
      await loadDemoConversations(services.conversations, Math.floor(Date.now() / 1000));
    } finally {
      await services.close();
    }
    const run = startServe(["--data", dataDir]);
    // The key, the curl line and any other hint are written at once.
    await run.waitFor("curl -H");
    expect(run.stderr()).not.toContain("seed --demo");
    expect(run.stderr()).not.toContain("demo conversations");
  });
});

describe("the console's address", () => {
  it("is printed on every start, and on a first start next to the new key", async () => {
    const consoleDir = path.join(root, "built-console");
    mkdirSync(consoleDir, { recursive: true });
    writeFileSync(path.join(consoleDir, "index.html"), "<!doctype html><title>console</title>");
    const run = startServe(["--data", path.join(root, "console-first")], {
      OPENCONVAI_CONSOLE_DIR: consoleDir,
    });
    await run.waitFor("curl -H");
    const printed = run.stderr();
    const url = /serving the Conversations API on (http:\/\/[^ ]+) /.exec(printed)?.[1];
    expect(url).toBeDefined();
    expect(printed).toContain(`The console: ${url}/ (sign in with an API key).`);
    const key = /only this once; keep it:\n\n {2}(\S+)\n/.exec(printed)?.[1];
    expect(key).toMatch(/^oc_/);
    expect(printed).toContain(`Open the console at ${url}/ and sign in with it`);
  });

  it("says how to build the console when it is not built", async () => {
    const run = startServe(["--data", path.join(root, "console-missing")], {
      OPENCONVAI_CONSOLE_DIR: path.join(root, "no-console-here"),
    });
    await run.waitFor("curl -H");
    expect(run.stderr()).toContain("The console is not built");
    expect(run.stderr()).toContain("npm run build");
  });
});

describe("the hints seed --demo prints", () => {
  it("repeat --data, so the suggested serve and keys commands reach the seeded data", async () => {
    const dataDir = path.join(root, "seeded");
    const first = await runCli(["seed", "--demo", "--data", dataDir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`\`npx openconvai serve --data ${dataDir}\``);
    const key = await runCli(["keys", "create", "--data", dataDir]);
    expect(key.code, key.stderr).toBe(0);
    const second = await runCli(["seed", "--demo", "--data", dataDir]);
    expect(second.stderr).toContain(`\`npx openconvai keys create --data ${dataDir}\``);
  });
});

describe("suggestCommand: the command a hint prints", () => {
  const defaults = { dataDir: path.resolve("data"), databaseUrl: undefined, sqliteFile: undefined };

  it("the default data dir adds no flag: `npx openconvai …` works as printed inside the clone", () => {
    expect(suggestCommand(defaults, ["seed", "--demo"])).toBe("`npx openconvai seed --demo`");
  });

  it("repeats --data, quoting a path the shell would split", () => {
    expect(suggestCommand({ ...defaults, dataDir: "/srv/my data" }, ["seed", "--demo"])).toBe(
      "`npx openconvai seed --demo --data '/srv/my data'`",
    );
  });

  it("repeats a sqlite: URL as sqlite:///abs/path", () => {
    expect(suggestCommand({ ...defaults, sqliteFile: "/srv/oc/db.sqlite" }, ["seed", "--demo"])).toBe(
      "`npx openconvai seed --demo --database-url sqlite:///srv/oc/db.sqlite`",
    );
  });

  it("repeats a PostgreSQL URL without its password, and says so", () => {
    const hint = suggestCommand({ ...defaults, databaseUrl: "postgres://oc:s3cret@db:5432/oc" }, [
      "seed",
      "--demo",
    ]);
    expect(hint).toBe(
      "`npx openconvai seed --demo --database-url 'postgres://oc:***@db:5432/oc'` (with the database password where *** is)",
    );
    expect(hint).not.toContain("s3cret");
  });

  it.each([
    ["postgres://oc@db/oc?password=s3cret", "'postgres://oc@db/oc?password=***'"],
    ["postgres://oc:p@ss@db/oc", "'postgres://oc:***@db/oc'"],
  ])("repeats %s without any of its password", (databaseUrl, shown) => {
    const hint = suggestCommand({ ...defaults, databaseUrl }, ["serve"], {});
    expect(hint).toBe(
      `\`npx openconvai serve --database-url ${shown}\` (with the database password where *** is)`,
    );
    expect(hint).not.toMatch(/s3cret|ss@/);
  });

  it("shows a URL that does not parse as <your URL>, none of it printed", () => {
    const hint = suggestCommand(
      { ...defaults, databaseUrl: "postgres://oc:s3cret@db:port/oc" },
      ["serve"],
      {},
    );
    expect(hint).toBe("`npx openconvai serve --database-url <your URL>`");
  });

  it("a URL from DATABASE_URL is not put on the command line: the variable reaches the command", () => {
    const databaseUrl = "postgres://oc:s3cret@db/oc";
    const hint = suggestCommand({ ...defaults, databaseUrl }, ["keys", "create"], {
      DATABASE_URL: databaseUrl,
    });
    expect(hint).toBe("`npx openconvai keys create` (with DATABASE_URL set, as for this command)");
  });
});
