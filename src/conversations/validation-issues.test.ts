import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { FINITE_KEYWORD } from "../api/path-params.js";
import {
  NO_NUL_MESSAGE,
  NO_NUL_PATTERN,
  toValidationIssues,
  type ValidationMode,
} from "./validation-issues.js";

const schema = {
  type: "object",
  properties: {
    n: { type: "number" },
    i: { type: "integer" },
    b: { type: "boolean" },
    s: { type: "string", maxLength: 2 },
    list: { type: "array", maxItems: 1 },
    nested: { type: "object", properties: { "a/b": { type: ["number", "null"] } } },
  },
  required: ["n"],
};

/** Validates like the request schemas (lax: text coerced) or like the document validator (strict). */
function issues(value: unknown, mode: ValidationMode): { loc: (string | number)[]; type: string }[] {
  const ajv = new Ajv({ allErrors: true, ...(mode === "lax" ? { coerceTypes: "array" as const } : {}) });
  const validate = ajv.compile(schema);
  validate(value);
  return toValidationIssues(validate.errors ?? [], ["body"], mode).map(({ loc, type }) => ({ loc, type }));
}

describe("toValidationIssues", () => {
  it("reports text that lax validation cannot read as a number or boolean as *_parsing", () => {
    expect(issues({ n: "soon", i: "2.5", b: "sometimes" }, "lax")).toEqual([
      { loc: ["body", "n"], type: "float_parsing" },
      { loc: ["body", "i"], type: "int_parsing" },
      { loc: ["body", "b"], type: "bool_parsing" },
    ]);
  });

  it("reports a JSON value of the wrong kind under strict validation as *_type", () => {
    expect(issues({ n: "soon", i: 2.5, b: "yes", list: {}, nested: { "a/b": "x" } }, "strict")).toEqual([
      { loc: ["body", "n"], type: "float_type" },
      { loc: ["body", "i"], type: "int_type" },
      { loc: ["body", "b"], type: "bool_type" },
      { loc: ["body", "list"], type: "list_type" },
      { loc: ["body", "nested", "a/b"], type: "float_type" },
    ]);
  });

  it("names missing keys, lengths and sizes the way pydantic does", () => {
    expect(issues({ s: "abc", list: [1, 2] }, "strict")).toEqual([
      { loc: ["body", "n"], type: "missing" },
      { loc: ["body", "s"], type: "string_too_long" },
      { loc: ["body", "list"], type: "too_long" },
    ]);
    expect(issues([], "strict")).toEqual([{ loc: ["body"], type: "dict_type" }]);
  });
});

describe("toValidationIssues for ids and query numbers", () => {
  const ajv = new Ajv({
    allErrors: true,
    coerceTypes: "array",
    keywords: [FINITE_KEYWORD],
  });
  const validate = ajv.compile({
    type: "object",
    properties: {
      id: { type: "string", pattern: NO_NUL_PATTERN },
      code: { type: "string", pattern: "^[a-z]+$" },
      size: { type: "integer", minimum: 1, maximum: 100, finite: true },
    },
  });
  const check = (value: Record<string, unknown>) => {
    validate(value);
    return toValidationIssues(validate.errors ?? [], ["query"], "lax");
  };

  it("refuses NUL in an id with a message that says what to do", () => {
    expect(check({ id: "a\u0000b", code: "ok" })).toEqual([
      { loc: ["query", "id"], msg: NO_NUL_MESSAGE, type: "string_pattern_mismatch" },
    ]);
    expect(check({ id: "a\uFFFDb" })).toEqual([]);
    expect(check({ code: "NOT" })).toEqual([
      {
        loc: ["query", "code"],
        msg: "String should match pattern '^[a-z]+$'",
        type: "string_pattern_mismatch",
      },
    ]);
  });

  it("reports text coerced to a number that is not finite as finite_number", () => {
    for (const size of ["Infinity", "-Infinity", "1e400"]) {
      expect(check({ size }), size).toEqual([
        { loc: ["query", "size"], msg: "Input should be a finite number", type: "finite_number" },
      ]);
    }
    expect(check({ size: "many" }).map((i) => i.type)).toEqual(["int_parsing"]);
    expect(check({ size: "100" })).toEqual([]);
  });
});
