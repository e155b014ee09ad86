/** Runs every due worker job once, as the worker would, with webhook settings for the test. */
import type pg from "pg";
import { Logger, runOnce } from "graphile-worker";
import { makeTaskList } from "../../src/worker/index.ts";
import { testWorkerContext } from "./workerContext.ts";

const quiet = new Logger(() => () => undefined);

export async function runJobs(ownerPool: pg.Pool, env: Record<string, string>): Promise<void> {
  await runOnce({
    pgPool: ownerPool,
    taskList: makeTaskList(testWorkerContext(env)),
    noHandleSignals: true,
    logger: quiet,
  });
}
