/**
 * The layout rules of src/, checked by `npm run lint` (docs/architecture.md says why each exists).
 * Tests (`*.test.ts`, test/) and bench/ are not subject to them: only src/ is cruised, without its
 * unit tests. A folder cycle the folder rule cannot see (one entering a subfolder) is caught by the
 * second, collapsed pass in the `lint:folders` script.
 */

/** Every product module: src/ without the unit tests beside the code. */
const PRODUCT = "^src/";

/**
 * One npm package (or its `@types/` twin): resolved under node_modules/, or the bare name when it is not
 * installed yet (so a rule holds before its package is added).
 */
function npmPackage(namePattern) {
  return `(^|/)node_modules/(@types/)?${namePattern}/|^${namePattern}(/|$)`;
}

/** A rule confining an npm package to one folder of src/. */
function onlyIn(name, folder, packagePattern, comment) {
  return {
    name,
    severity: "error",
    comment,
    from: { path: PRODUCT, pathNot: `^${folder}` },
    to: { path: npmPackage(packagePattern) },
  };
}

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-file-cycle",
      severity: "error",
      comment:
        "This import closes a cycle between files of src/ (type-only imports count). Break it: move what both " +
        "sides need (a type, an interface) into a module that neither imports back, or have the caller pass the " +
        "dependency in (a route plugin receives the store interfaces it uses, not app.ts's services).",
      from: { path: PRODUCT },
      to: { circular: true },
    },
    {
      name: "no-folder-cycle",
      severity: "error",
      comment:
        "This folder dependency is part of a cycle between folders of src/. Decide which folder is the lower " +
        "one and move the shared piece there, or wire the two together in the composition root (src/main.ts).",
      scope: "folder",
      from: { path: PRODUCT },
      to: { circular: true },
    },
    {
      name: "fastify-only-in-api",
      severity: "error",
      comment:
        "fastify and @fastify/* are the HTTP layer and belong under src/api/. Elsewhere, depend on what the " +
        "api layer exports (e.g. the server type from src/api/app.ts) or on plain interfaces.",
      from: { path: PRODUCT, pathNot: "^src/api/" },
      to: { path: npmPackage("(fastify|@fastify/[^/]+)") },
    },
    {
      name: "api-error-only-in-api",
      severity: "error",
      comment:
        "ApiError is the HTTP error type: only src/api/ may import it. Services throw the domain errors of " +
        "src/domain/errors.ts (NotFoundError, InvalidInputError, ValidationIssue) and the api layer maps them " +
        "to upstream's envelopes in its one error handler.",
      from: { path: PRODUCT, pathNot: "^src/api/" },
      to: { path: "^src/api/api-error\\.ts$" },
    },
    {
      name: "api-not-to-app",
      severity: "error",
      comment:
        "Nothing under src/api/ imports app.ts (not even its types): app.ts registers the route plugins, so " +
        "that import is a cycle. Declare the options a plugin needs in the plugin, from the store interfaces.",
      from: { path: "^src/api/", pathNot: "^src/api/app\\.ts$" },
      to: { path: "^src/api/app\\.ts$" },
    },
    {
      name: "domain-imports-only-domain",
      severity: "error",
      comment:
        "src/domain/ is the conversation and its rules: it imports nothing else of ours. Move the needed piece " +
        "into src/domain/, or turn the dependency around (the other folder imports the domain).",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: "^src/domain/" },
    },
    onlyIn(
      "better-sqlite3-only-in-store-sqlite",
      "src/store/sqlite/",
      "better-sqlite3",
      "better-sqlite3 is imported only in src/store/sqlite/. Elsewhere, use the store interfaces of src/store/.",
    ),
    onlyIn(
      "pg-only-in-store-postgres",
      "src/store/postgres/",
      "pg(|-[^/]+)",
      "pg (and pg-* companions) is imported only in src/store/postgres/. Elsewhere, use the store interfaces " +
        "of src/store/.",
    ),
    onlyIn(
      "ws-only-in-api",
      "src/api/",
      "ws",
      "ws is imported only under src/api/ (the socket route). The live runtime gets parsed, typed frames from " +
        "that route, never the socket.",
    ),
    onlyIn(
      "aws-sdk-only-in-blobs-s3",
      "src/blobs/s3/",
      "@aws-sdk/[^/]+",
      "@aws-sdk/* is imported only in src/blobs/s3/. Elsewhere, use the BlobStore interface of src/blobs/.",
    ),
    onlyIn(
      "undici-only-in-providers-http",
      "src/providers/http/",
      "undici",
      "undici is imported only in src/providers/http/ (the providers' streaming HTTP client). Elsewhere, call " +
        "what that folder exports, or the platform fetch for calls off the hot path.",
    ),
    onlyIn(
      "hnswlib-node-only-in-search-ann",
      "src/search/ann/",
      "hnswlib-node",
      "hnswlib-node (the ANN graph) is imported only in src/search/ann/. Elsewhere, use its HnswIndex " +
        "through src/search/semantic-index.ts.",
    ),
    onlyIn(
      "alawmulaw-only-in-audio",
      "src/audio/",
      "alawmulaw",
      "alawmulaw (the G.711 codec) is imported only in src/audio/. Elsewhere, convert through " +
        "src/audio/audio-codec.ts (decodeToPcm, encodeFromPcm).",
    ),
    onlyIn(
      "mp3-encoder-only-in-recording",
      "src/recording/",
      "wasm-media-encoders",
      "The MP3 encoder is imported only in src/recording/ (it runs in that folder's worker thread). Elsewhere, " +
        "encode through what src/recording/ exports.",
    ),
    {
      name: "audio-imports-only-audio",
      severity: "error",
      comment:
        "src/audio/ is bytes and formats (codecs, resampling, WAV, chunk checks): it imports nothing else of " +
        "ours, so every layer can use it. Pass what it needs in as plain values.",
      from: { path: "^src/audio/" },
      to: { path: "^src/", pathNot: "^src/audio/" },
    },
    onlyIn(
      "prom-client-only-in-telemetry",
      "src/telemetry/",
      "prom-client",
      "prom-client is imported only in src/telemetry/. Elsewhere, record through what src/telemetry/ exports.",
    ),
    onlyIn(
      "otlp-exporter-only-in-telemetry",
      "src/telemetry/",
      "@opentelemetry/exporter-trace-otlp-proto",
      "The OTLP trace exporter is imported only in src/telemetry/ (the trace push). Elsewhere, queue traces " +
        "through the database (src/store/trace-push-store.ts) and let src/telemetry/ send them.",
    ),
    {
      name: "opentelemetry-only-in-trace-and-telemetry",
      severity: "error",
      comment:
        "@opentelemetry/* is imported in two folders: src/domain/trace/ (the OTLP rendering of a conversation) " +
        "and src/telemetry/ (the server's own telemetry). Elsewhere only the @opentelemetry/api facade is allowed.",
      from: { path: PRODUCT, pathNot: "^src/(domain/trace|telemetry)/" },
      to: { path: npmPackage("@opentelemetry/[^/]+"), pathNot: npmPackage("@opentelemetry/api") },
    },
    {
      name: "trace-rendering-is-not-telemetry",
      severity: "error",
      comment:
        "src/domain/trace/ only builds OTLP data: it uses the data-model packages (api, core, resources, " +
        "otlp-transformer, sdk-trace-base). An OpenTelemetry SDK, exporter or instrumentation belongs in " +
        "src/telemetry/.",
      from: { path: "^src/domain/trace/" },
      to: {
        path: npmPackage("@opentelemetry/[^/]+"),
        pathNot: npmPackage("@opentelemetry/(api|core|resources|otlp-transformer|sdk-trace-base)"),
      },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment:
        "This import does not resolve, so the rules above cannot follow it. Fix the path (ESM imports end in " +
        ".js), or add the package to package.json.",
      from: { path: PRODUCT },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    exclude: { path: "\\.test\\.ts$" },
    doNotFollow: { path: "(^|/)node_modules/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    skipAnalysisNotInRules: true,
  },
};
