/** What `runExclusive` did: ran the work (and its value), or left it to the process holding the lock. */
export type ExclusiveRun<T> = { ran: true; value: T } | { ran: false };

/**
 * Background work that runs once across a deployment, not once per node (the embedding indexer,
 * crash recovery, retention, trace pushes): each round takes the job's lock, and a node that
 * finds it held skips the round. No leader is elected: whichever node comes first does the round.
 * On PostgreSQL the lock is a session advisory lock, so a node that dies lets go of it with its
 * connection; on SQLite one server process owns the file, so the lock only keeps two rounds of
 * one process apart.
 */
export interface JobLocks {
  /** Runs `work` holding the job's lock; `{ran: false}` at once when another process (or round) holds it. */
  runExclusive<T>(job: string, work: () => Promise<T>): Promise<ExclusiveRun<T>>;
}
