/** How a backend writes a statement's parameters. */
export interface SqlPlaceholders {
  /** The placeholder for the n-th parameter (1-based). */
  placeholder(n: number): string;
}

/** A statement and its parameters. */
export interface SqlQuery {
  sql: string;
  params: unknown[];
}

/** Binds a value as the next parameter and returns its placeholder. */
export type Bind = (value: unknown) => string;

/**
 * Makes a parameter list and the `bind` that appends to it, so a statement written once serves
 * both backends (`?` in SQLite, `$n` in PostgreSQL).
 */
export function createParams(dialect: SqlPlaceholders): { params: unknown[]; bind: Bind } {
  const params: unknown[] = [];
  return {
    params,
    bind: (value) => {
      params.push(value);
      return dialect.placeholder(params.length);
    },
  };
}
