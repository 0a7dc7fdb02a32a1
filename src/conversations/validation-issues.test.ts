import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { toValidationIssues, type ValidationMode } from "./validation-issues.js";

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
