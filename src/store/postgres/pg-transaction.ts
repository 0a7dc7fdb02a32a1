import type pg from "pg";

/**
 * Runs a body in one transaction on one pooled connection: committed when the body returns,
 * rolled back when it throws. A connection that cannot even roll back is handed back as broken,
 * so the pool discards it.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await body(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Lifts the pool's statement timeout for the rest of the transaction it runs in (SET LOCAL: the
 * connection has its own timeout again after COMMIT or ROLLBACK, whoever uses it next).
 */
export const NO_STATEMENT_TIMEOUT_SQL = "SET LOCAL statement_timeout = 0";

/**
 * Runs long work that is not a request's (an import batch, a background job's scan, a day's
 * statistics backfill) in one transaction without the pool's statement timeout. A request's own
 * queries never go through here: their timeout is what stops a hostile one.
 */
export async function withoutStatementTimeout<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query(NO_STATEMENT_TIMEOUT_SQL);
    return body(client);
  });
}
