/**
 * graphile-worker, in-process by default or alone (`npm run worker`). It connects as the
 * owner; FORCE RLS still binds it, so tenant tasks set jwt.claims.org_id from their payload.
 */
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type pg from "pg";
import { Logger as WorkerLogger, parseCrontab, run, type Runner, type TaskList } from "graphile-worker";
import { publicOrigin, type ServerConfig } from "../config.ts";
import type { SecretBox } from "../integrations/secretBox.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Services } from "../services.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { integrations__purge_history } from "./tasks/integrations__purge_history.ts";
import { maintenance_windows__advance } from "./tasks/maintenance_windows__advance.ts";
import { organizations__delete } from "./tasks/organizations__delete.ts";
import { sessions__purge_expired } from "./tasks/sessions__purge_expired.ts";
import { status_snapshots__rebuild } from "./tasks/status_snapshots__rebuild.ts";
import { status_snapshots__roll_up } from "./tasks/status_snapshots__roll_up.ts";
import { subscribers__notify } from "./tasks/subscribers__notify.ts";
import { subscribers__send_confirmation } from "./tasks/subscribers__send_confirmation.ts";
import { subscribers__send_notification } from "./tasks/subscribers__send_notification.ts";
import { webhook_deliveries__send } from "./tasks/webhook_deliveries__send.ts";
import { webhook_targets__notify_disabled } from "./tasks/webhook_targets__notify_disabled.ts";

/** What tasks need from the process besides the database: settings, secrets, links. */
export interface WorkerContext {
  config: ServerConfig;
  secrets: SecretBox;
  mailer: Mailer;
  logger: Logger;
  metrics: Metrics;
  /** Where users reach the web server, for links in messages (PUBLIC_URL in production). */
  publicUrl(): string;
}

export function workerContext(services: Services): WorkerContext {
  const { config, secrets, mailer, logger, metrics, httpServer } = services;
  return {
    config,
    secrets,
    mailer,
    logger,
    metrics,
    publicUrl: () => publicOrigin(config, (httpServer.address() as AddressInfo | null)?.port ?? config.PORT),
  };
}

export function makeTaskList(context: WorkerContext): TaskList {
  return {
    integrations__purge_history,
    maintenance_windows__advance,
    organizations__delete,
    sessions__purge_expired,
    status_snapshots__rebuild,
    status_snapshots__roll_up,
    subscribers__notify,
    subscribers__send_confirmation: subscribers__send_confirmation(context),
    subscribers__send_notification: subscribers__send_notification(context),
    webhook_deliveries__send: webhook_deliveries__send(context),
    webhook_targets__notify_disabled: webhook_targets__notify_disabled(context),
  };
}

const crontabPath = resolve(dirname(fileURLToPath(import.meta.url)), "crontab");

export interface WorkerOptions {
  concurrency?: number;
  pollInterval?: number;
}

/** graphile-worker's log lines, as structured lines of ours. */
function workerLogger(logger: Logger): WorkerLogger {
  const log = logger.child({ component: "worker" });
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { task: scope.taskIdentifier, jobId: scope.jobId, ...meta };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else if (level === "info") log.info(fields, message);
    else log.debug(fields, message);
  });
}

export interface RunningWorker {
  /** Stops taking jobs, lets running ones finish, and stops beating. */
  stop(): Promise<void>;
}

export async function startWorker(
  ownerPool: pg.Pool,
  context: WorkerContext,
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const runner: Runner = await run({
    pgPool: ownerPool,
    taskList: makeTaskList(context),
    parsedCronItems: parseCrontab(readFileSync(crontabPath, "utf8")),
    concurrency: options.concurrency ?? 4,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 1000,
    logger: workerLogger(context.logger),
  });
  const { metrics } = context;
  const started = new Map<string, number>();
  runner.events.on("job:start", ({ job }) => void started.set(job.id, performance.now()));
  runner.events.on("job:success", ({ job }) => metrics.jobs.inc({ task: job.task_identifier, outcome: "success" }));
  runner.events.on("job:error", ({ job }) => metrics.jobs.inc({ task: job.task_identifier, outcome: "error" }));
  runner.events.on("job:failed", ({ job }) => metrics.jobs.inc({ task: job.task_identifier, outcome: "failed" }));
  runner.events.on("job:complete", ({ job }) => {
    const start = started.get(job.id);
    started.delete(job.id);
    if (start !== undefined)
      metrics.jobDuration.observe({ task: job.task_identifier }, (performance.now() - start) / 1000);
  });
  const heartbeat = startHeartbeat(ownerPool);
  return {
    async stop() {
      await heartbeat.stop();
      await runner.stop();
    },
  };
}
