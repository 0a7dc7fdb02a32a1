import { describe, expect, it } from "vitest";
import { describeBlobLocation, resolveBlobConfig } from "./blob-config.js";
import { ConfigError } from "./config-error.js";

describe("resolveBlobConfig", () => {
  it("keeps the blobs in the data dir when OPENCONVAI_BLOB_URL is unset or empty", () => {
    expect(resolveBlobConfig({})).toEqual({ kind: "fs" });
    expect(resolveBlobConfig({ OPENCONVAI_BLOB_URL: "" })).toEqual({ kind: "fs" });
    expect(describeBlobLocation({ kind: "fs" }, "/srv/data")).toBe("/srv/data");
  });

  it("reads the bucket and prefix of an s3:// URL, with the defaults", () => {
    const config = resolveBlobConfig({ OPENCONVAI_BLOB_URL: "s3://my-bucket/openconvai/blobs/" });
    expect(config).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "openconvai/blobs",
      forcePathStyle: false,
      requestTimeoutMs: 30_000,
      connectionTimeoutMs: 5000,
      maxAttempts: 3,
    });
    expect(describeBlobLocation(config, "/srv/data")).toBe("s3://my-bucket/openconvai/blobs");
    expect(resolveBlobConfig({ OPENCONVAI_BLOB_URL: "s3://my-bucket" })).toMatchObject({ prefix: "" });
  });

  it("turns path-style on when an endpoint is set, unless told otherwise", () => {
    const url = { OPENCONVAI_BLOB_URL: "s3://my-bucket/x" };
    expect(resolveBlobConfig({ ...url, AWS_ENDPOINT_URL_S3: "http://minio:9000" })).toMatchObject({
      forcePathStyle: true,
    });
    expect(resolveBlobConfig({ ...url, AWS_ENDPOINT_URL: "http://minio:9000" })).toMatchObject({
      forcePathStyle: true,
    });
    expect(
      resolveBlobConfig({
        ...url,
        AWS_ENDPOINT_URL_S3: "http://r2",
        OPENCONVAI_S3_FORCE_PATH_STYLE: "false",
      }),
    ).toMatchObject({ forcePathStyle: false });
    expect(resolveBlobConfig({ ...url, OPENCONVAI_S3_FORCE_PATH_STYLE: "true" })).toMatchObject({
      forcePathStyle: true,
    });
  });

  it("reads the timeout and the attempts", () => {
    expect(
      resolveBlobConfig({
        OPENCONVAI_BLOB_URL: "s3://my-bucket",
        OPENCONVAI_S3_TIMEOUT_SECS: "5",
        OPENCONVAI_S3_MAX_ATTEMPTS: "1",
      }),
    ).toMatchObject({ requestTimeoutMs: 5000, maxAttempts: 1 });
  });

  it.each([
    [
      "http://minio:9000/bucket",
      /must be an s3:\/\/ URL .*got a http: URL: set OPENCONVAI_BLOB_URL to s3:\/\/bucket/,
    ],
    ["gs://bucket/x", /got a gs: URL/],
    ["/srv/blobs", /must be an s3:\/\/ URL/],
    ["s3://My_Bucket/x", /is not a bucket name/],
    ["s3://ab/x", /is not a bucket name/],
    ["s3://my-bucket/a//b", /empty, "\." or "\.\." segment/],
    ["s3://my-bucket/a/../b", /empty, "\." or "\.\." segment/],
  ])("refuses OPENCONVAI_BLOB_URL=%s, saying what to set", (raw, message) => {
    expect(() => resolveBlobConfig({ OPENCONVAI_BLOB_URL: raw })).toThrow(ConfigError);
    expect(() => resolveBlobConfig({ OPENCONVAI_BLOB_URL: raw })).toThrow(message);
  });

  it("refuses a path-style setting that is not a boolean, and attempts out of range", () => {
    const url = { OPENCONVAI_BLOB_URL: "s3://my-bucket" };
    expect(() => resolveBlobConfig({ ...url, OPENCONVAI_S3_FORCE_PATH_STYLE: "maybe" })).toThrow(
      "OPENCONVAI_S3_FORCE_PATH_STYLE must be true or false",
    );
    expect(() => resolveBlobConfig({ ...url, OPENCONVAI_S3_MAX_ATTEMPTS: "0" })).toThrow(
      "OPENCONVAI_S3_MAX_ATTEMPTS must be a whole number from 1 to 10",
    );
  });
});
