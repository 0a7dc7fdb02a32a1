import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/config.js";
import { ConfigError } from "../src/config/config-error.js";

describe("--database-url sqlite:… names the SQLite file", () => {
  it.each([
    ["sqlite:///srv/oc/openconvai.sqlite", "/srv/oc/openconvai.sqlite"],
    ["sqlite:/srv/oc/openconvai.sqlite", "/srv/oc/openconvai.sqlite"],
    ["sqlite:relative/openconvai.sqlite", path.resolve("relative/openconvai.sqlite")],
    ["sqlite:openconvai.sqlite", path.resolve("openconvai.sqlite")],
  ])("%s is the file %s, and no PostgreSQL URL is set", (url, file) => {
    const config = resolveConfig({ databaseUrl: url }, {});
    expect(config.sqliteFile).toBe(file);
    expect(config.databaseUrl).toBeUndefined();
  });

  it("DATABASE_URL=sqlite:… works as the flag does", () => {
    expect(resolveConfig({}, { DATABASE_URL: "sqlite:///x/y.sqlite" }).sqliteFile).toBe("/x/y.sqlite");
  });

  it("no sqlite: URL leaves the file to the data dir", () => {
    expect(resolveConfig({ data: "/d" }, {}).sqliteFile).toBeUndefined();
  });

  it.each([
    ["sqlite://server/x.sqlite", /names a host/],
    ["sqlite:", /names no database file/],
    ["sqlite:///", /names no database file/],
    ["sqlite::memory:", /names no database file/],
    ["sqlite:///srv/oc/", /names no database file/],
  ])("%s is refused with the forms that work", (url, reason) => {
    expect(() => resolveConfig({ databaseUrl: url }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ databaseUrl: url }, {})).toThrow(reason);
    expect(() => resolveConfig({ databaseUrl: url }, {})).toThrow(/sqlite:\/\/\/absolute\/path/);
  });

  it("mysql:// is still refused, naming both URL kinds", () => {
    expect(() => resolveConfig({ databaseUrl: "mysql://u@h/db" }, {})).toThrow(
      /postgres:\/\/ URL or a sqlite: file URL/,
    );
  });
});
