import type pg from "pg";
import type { ExclusiveRun, JobLocks } from "../job-locks.js";

/** The advisory lock key of a job: a 64-bit hash of its name, in openconvai's own namespace. */
const TRY_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtextextended('openconvai.job:' || $1, 0)) AS locked";
const UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtextextended('openconvai.job:' || $1, 0))";

/**
 * Job locks on PostgreSQL: a session advisory lock held on a connection of its own for the length
 * of the round. The round's own queries use the pool as usual. A node that dies drops its
 * connection and with it the lock, so the next round on another node takes over; nothing has to be
 * released by hand.
 */
export class PostgresJobLocks implements JobLocks {
  constructor(private readonly pool: pg.Pool) {}

  async runExclusive<T>(job: string, work: () => Promise<T>): Promise<ExclusiveRun<T>> {
    const client = await this.pool.connect();
    let locked: boolean;
    try {
      locked = (await client.query<{ locked: boolean }>(TRY_LOCK_SQL, [job])).rows[0]?.locked === true;
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (!locked) {
      client.release();
      return { ran: false };
    }
    try {
      return { ran: true, value: await work() };
    } finally {
      // A connection that cannot unlock is broken: the lock went with it, and it is not reused.
      const unlocked = await client.query(UNLOCK_SQL, [job]).then(
        () => true,
        () => false,
      );
      client.release(!unlocked);
    }
  }
}
