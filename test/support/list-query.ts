import type { ListQuery } from "../../src/domain/list-query.js";

/** A list query with no filters (newest first, 30 a page), changed by `overrides`. */
export function listQuery(overrides: Partial<ListQuery> = {}): ListQuery {
  return {
    pageSize: 30,
    cursor: null,
    direction: "desc",
    anyOf: [],
    evaluations: [],
    dataCollection: [],
    dynamicVariables: [],
    ...overrides,
  };
}
