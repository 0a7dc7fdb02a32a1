/**
 * The JSON body parser of every route that takes JSON (the webhook receiver keeps its raw bytes).
 * It replaces Fastify's own, whose secure-json-parse refuses `__proto__` keys as "not valid
 * JSON": here `__proto__` is an ordinary key, as on every other path a document arrives by
 * (src/conversations/parse-json.ts). Numbers that are not finite and nesting deeper than
 * MAX_JSON_DEPTH are refused as a 422 naming where they are, before any route sees the body.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { checkJsonValue, parseJson } from "../conversations/parse-json.js";
import { ValidationFailed } from "./api-error.js";

/** Parses a JSON request body; a SyntaxError becomes the error handler's 422 `json_invalid`. */
function parseJsonBody(
  _request: FastifyRequest,
  body: string,
  done: (error: Error | null, value?: unknown) => void,
): void {
  let value: unknown;
  try {
    value = parseJson(body);
  } catch (error) {
    done(error as Error);
    return;
  }
  const issues = checkJsonValue(value, ["body"]);
  if (issues.length > 0) done(new ValidationFailed(issues));
  else done(null, value);
}

/** Makes `parseJsonBody` the parser of `application/json` bodies (within the route limits). */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, parseJsonBody);
}
