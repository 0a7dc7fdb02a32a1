/**
 * Turns trace pushing on or off for the database at a server's start, and builds the job. Queueing
 * is a database setting (the trigger checks it), so every node on one database must be configured
 * the same: a node started with OPENCONVAI_OTLP_ENDPOINT turns it on, one started without turns it
 * off and empties the queue.
 */
import type { Logger } from "pino";
import type { OtlpConfig } from "../config/otlp-config.js";
import type { Database } from "../store/store.js";
import { TracePushJob } from "./trace-push-job.js";

/**
 * Enables pushing and returns the job to run when `config` is set; otherwise disables pushing,
 * empties the queue, and returns undefined.
 */
export async function setUpTracePush(
  config: OtlpConfig | undefined,
  db: Pick<Database, "tracePushes" | "conversations" | "jobLocks">,
  logger: Pick<Logger, "info" | "warn" | "error">,
): Promise<TracePushJob | undefined> {
  if (config === undefined) {
    if (await db.tracePushes.isEnabled()) {
      const dropped = await db.tracePushes.countQueued();
      if (!(await db.tracePushes.disable())) {
        logger.warn(
          { queued: dropped },
          "trace push: OPENCONVAI_OTLP_ENDPOINT is not set, but pushing traces could not be turned off for this database (its settings stayed locked by other nodes' writes for 5 s): finished conversations are still queued; start again to retry, or set OPENCONVAI_OTLP_ENDPOINT on every node",
        );
        return undefined;
      }
      logger.warn(
        { dropped },
        "trace push: OPENCONVAI_OTLP_ENDPOINT is not set, so pushing traces is now off for this database and its queue was emptied; set it on every node to keep pushing",
      );
    }
    return undefined;
  }
  // The OTLP exporter is loaded only when there is a collector to push to.
  const { OtlpTraceSender } = await import("./trace-push-sender.js");
  await db.tracePushes.enable();
  logger.info(
    { queued: await db.tracePushes.countQueued() },
    "trace push: finished conversations' traces are pushed to the OpenTelemetry collector",
  );
  return new TracePushJob({
    store: db.tracePushes,
    conversations: db.conversations,
    jobLocks: db.jobLocks,
    sender: new OtlpTraceSender(config),
    config,
    logger,
  });
}
