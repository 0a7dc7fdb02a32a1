import { describe, expect, it } from "vitest";
import { maskDatabaseUrl, resolveConfig } from "./config.js";

describe("maskDatabaseUrl: a database URL fit to print", () => {
  it.each([
    ["postgres://oc:s3cret@db:5432/oc", "postgres://oc:***@db:5432/oc"],
    // An unencoded @: the URL parser, like pg, ends the credentials at the last @.
    ["postgres://oc:p@ss@db/oc", "postgres://oc:***@db/oc"],
    ["postgres://oc@db/oc?password=s3cret", "postgres://oc@db/oc?password=***"],
    [
      "postgres://oc@db/oc?sslmode=require&PassWord=s3cret",
      "postgres://oc@db/oc?sslmode=require&PassWord=***",
    ],
    [
      "postgres://oc@db/oc?sslpassword=s3cret&sslkey=/k.pem",
      "postgres://oc@db/oc?sslpassword=***&sslkey=/k.pem",
    ],
    ["postgres://oc@db/oc?pass%77ord=s3cret", "postgres://oc@db/oc?pass%77ord=***"],
    ["postgresql://oc:s3cret@db/oc?password=s3cret#s3cret", "postgresql://oc:***@db/oc?password=***"],
  ])("%s is shown as %s", (url, shown) => {
    expect(maskDatabaseUrl(url)).toBe(shown);
    expect(maskDatabaseUrl(url)).not.toMatch(/s3cret|ss@/);
  });

  it("leaves a URL without a password as it is", () => {
    expect(maskDatabaseUrl("postgres://oc@db:5432/oc?sslmode=require")).toBe(
      "postgres://oc@db:5432/oc?sslmode=require",
    );
  });

  it.each([
    "postgres://oc:s3cret@db:port/oc",
    "postgres://oc:s3cret@/oc?host=/run/postgresql",
    "//oc:s3cret@db/oc",
  ])("%s does not parse, so nothing of it is shown", (url) => {
    expect(maskDatabaseUrl(url)).toBeUndefined();
  });

  it("the error for a URL of another kind does not print its password", () => {
    const refuse = (url: string) => () => resolveConfig({ databaseUrl: url }, {});
    expect(refuse("mysql://oc:s3cret@db/oc")).toThrow('got "mysql://oc:***@db/oc"');
    expect(refuse("mysql://oc@db/oc?password=s3cret")).toThrow('got "mysql://oc@db/oc?password=***"');
    expect(refuse("//oc:s3cret@db/oc")).toThrow(/got a value that is not a URL/);
    expect(refuse("//oc:s3cret@db/oc")).not.toThrow(/s3cret/);
  });
});
