/** Worker thread entry: checks NDJSON lines (parse, validate, build records) off the importer's thread. */
import { parentPort } from "node:worker_threads";
import { checkLines, type Line } from "./ndjson-check.js";

/** A request from the importer. */
export interface CheckRequest {
  id: number;
  lines: Line[];
  firstLine: number;
  maxLineBytes: number;
  buildRecords: boolean;
}

parentPort?.on("message", (request: CheckRequest) => {
  const result = checkLines(request.lines, request.firstLine, request.maxLineBytes, request.buildRecords);
  parentPort?.postMessage({ id: request.id, result });
});
