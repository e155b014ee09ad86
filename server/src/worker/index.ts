/**
 * graphile-worker, in-process by default or alone (`npm run worker`). It connects as the
 * owner; FORCE RLS still binds it, so tenant tasks set jwt.claims.org_id from their payload.
 */
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type pg from "pg";
import { Logger, parseCrontab, run, type Runner, type TaskList } from "graphile-worker";
import { publicOrigin, type ServerConfig } from "../config.ts";
import type { SecretBox } from "../integrations/secretBox.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { Services } from "../services.ts";
import { maintenance_windows__advance } from "./tasks/maintenance_windows__advance.ts";
import { sessions__purge_expired } from "./tasks/sessions__purge_expired.ts";
import { status_snapshots__rebuild } from "./tasks/status_snapshots__rebuild.ts";
import { status_snapshots__roll_up } from "./tasks/status_snapshots__roll_up.ts";

/** What tasks need from the process besides the database: settings, secrets, links. */
export interface WorkerContext {
  config: ServerConfig;
  secrets: SecretBox;
  mailer: Mailer;
  /** Where users reach the web server, for links in messages (PUBLIC_URL in production). */
  publicUrl(): string;
}

export function workerContext(services: Services): WorkerContext {
  const { config, secrets, mailer, httpServer } = services;
  return {
    config,
    secrets,
    mailer,
    publicUrl: () => publicOrigin(config, (httpServer.address() as AddressInfo | null)?.port ?? config.PORT),
  };
}

export function makeTaskList(_context: WorkerContext): TaskList {
  return {
    maintenance_windows__advance,
    sessions__purge_expired,
    status_snapshots__rebuild,
    status_snapshots__roll_up,
  };
}

const crontabPath = resolve(dirname(fileURLToPath(import.meta.url)), "crontab");

export interface WorkerOptions {
  concurrency?: number;
  pollInterval?: number;
}

export async function startWorker(
  ownerPool: pg.Pool,
  context: WorkerContext,
  options: WorkerOptions = {},
): Promise<Runner> {
  return run({
    pgPool: ownerPool,
    taskList: makeTaskList(context),
    parsedCronItems: parseCrontab(readFileSync(crontabPath, "utf8")),
    concurrency: options.concurrency ?? 4,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 1000,
    logger: new Logger(() => (level, message) => {
      if (level === "error" || level === "warning") console.warn(`[worker] ${message}`);
    }),
  });
}
