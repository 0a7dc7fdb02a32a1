import type { ExclusiveRun, JobLocks } from "../job-locks.js";

/**
 * Job locks of a SQLite database: one server process owns the file (a second one is refused at
 * start), so a lock only has to keep two rounds of one job in this process apart.
 */
export class SqliteJobLocks implements JobLocks {
  private readonly running = new Set<string>();

  async runExclusive<T>(job: string, work: () => Promise<T>): Promise<ExclusiveRun<T>> {
    if (this.running.has(job)) return { ran: false };
    this.running.add(job);
    try {
      return { ran: true, value: await work() };
    } finally {
      this.running.delete(job);
    }
  }
}
