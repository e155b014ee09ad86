/**
 * Worker throughput for notification jobs: N webhook deliveries (webhook_deliveries__send,
 * the real task: load and sign in the organization's transaction, POST, record the attempt)
 * to a local receiver answering 204, against the reference of graphile-worker running a no-op
 * task N times. Both run in this process with the product's worker settings (concurrency 4,
 * the owner's pool) and the product stopped, so nothing else takes the jobs; each is timed
 * from the worker's start until its N-th job completed.
 *
 * The deliveries come the way production makes them: N events recorded in one transaction
 * (app_private.emit_event), whose trigger queues one delivery and one job per event for the
 * organization's endpoint, created through GraphQL while the product still runs.
 */
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { Logger as WorkerLogger, run, type TaskList, type WorkerEvents } from "graphile-worker";
import { readServerConfig } from "../src/config.ts";
import { SecretBox } from "../src/integrations/secretBox.ts";
import { createMailer } from "../src/mail/mailer.ts";
import { createLogger } from "../src/observability/logger.ts";
import { Metrics } from "../src/observability/metrics.ts";
import { makeTaskList, type WorkerContext } from "../src/worker/index.ts";
import { benchIdentity } from "./dataset.ts";
import {
  BENCH_JWT_SECRET,
  BENCH_SECRETS_ENCRYPTION_KEY,
  graphql,
  round,
  signIn,
  type BenchContext,
  type Product,
} from "./common.ts";

const CONCURRENCY = 4;
const quiet = new WorkerLogger(() => () => undefined);

export interface WorkerThroughputResult {
  jobs: number;
  concurrency: number;
  webhookJobsPerSecond: number;
  noopJobsPerSecond: number;
  /** Webhook deliveries per second / no-op jobs per second. */
  ratio: number;
  delivered: number;
}

export interface WebhookReceiver {
  url: string;
  received(): number;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  let received = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      received++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

/** While the product runs: the third organization's owner creates an endpoint for the receiver. */
export async function createBenchEndpoint(context: BenchContext, product: Product, receiver: WebhookReceiver) {
  const n = Math.min(3, context.options.organizations);
  const token = await signIn(product.origin, n);
  await graphql(
    product.origin,
    `
      mutation C($input: CreateWebhookEndpointInput!) {
        createWebhookEndpoint(input: $input) {
          secret
        }
      }
    `,
    { input: { url: receiver.url, description: "Benchmark receiver" } },
    token,
  );
  return n;
}

function workerContext(context: BenchContext): WorkerContext {
  const config = readServerConfig({
    NODE_ENV: "production",
    JWT_SECRET: BENCH_JWT_SECRET,
    SECRETS_ENCRYPTION_KEY: BENCH_SECRETS_ENCRYPTION_KEY,
    PUBLIC_URL: "http://status.bench",
    DATA_DIR: context.dataDir,
    WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
  });
  return {
    config,
    secrets: new SecretBox(BENCH_SECRETS_ENCRYPTION_KEY),
    mailer: createMailer({ smtpUrl: undefined, from: config.MAIL_FROM, dataDir: context.dataDir }),
    logger: createLogger({ level: "silent" }),
    metrics: new Metrics(),
    publicUrl: () => config.PUBLIC_URL!,
  };
}

/** Runs the worker until `count` jobs of `task` succeeded; returns jobs per second. */
async function drain(pool: pg.Pool, taskList: TaskList, task: string, count: number): Promise<number> {
  const events: WorkerEvents = new EventEmitter();
  let completed = 0;
  let failed = 0;
  const done = new Promise<void>((resolveDone, reject) => {
    events.on("job:success", ({ job }) => {
      if (job.task_identifier === task && ++completed === count) resolveDone();
    });
    events.on("job:error", ({ job, error }) => {
      if (job.task_identifier === task && ++failed === 1) reject(error as Error);
    });
  });
  const started = performance.now();
  const runner = await run({
    pgPool: pool,
    taskList,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger: quiet,
    events,
  });
  try {
    await done;
    return count / ((performance.now() - started) / 1000);
  } finally {
    await runner.stop();
  }
}

export async function measureWorkerThroughput(
  context: BenchContext,
  receiver: WebhookReceiver,
  organizationNumber: number,
): Promise<WorkerThroughputResult> {
  const jobs = context.options.workerJobs;
  const { organizationId } = await benchIdentity(context.rootPool, organizationNumber);
  const pool = new pg.Pool({ connectionString: context.database.ownerUrl, max: CONCURRENCY + 2 });
  pool.on("error", () => undefined);
  try {
    // Nothing else in the queue: the product's own jobs from earlier measurements are done or dropped.
    await context.rootPool.query("delete from graphile_worker._private_jobs");
    await context.rootPool.query(
      `select app_private.emit_event($1, 'incident.created', gen_random_uuid(), true, '{}'::jsonb)
       from generate_series(1, $2)`,
      [organizationId, jobs],
    );
    const queued = await context.rootPool.query<{ count: string }>(
      "select count(*) from graphile_worker.jobs where task_identifier = 'webhook_deliveries__send'",
    );
    if (Number(queued.rows[0]!.count) !== jobs) {
      throw new Error(`expected ${jobs} webhook jobs, found ${queued.rows[0]!.count}`);
    }
    const before = receiver.received();
    const webhookJobsPerSecond = await drain(
      pool,
      makeTaskList(workerContext(context)),
      "webhook_deliveries__send",
      jobs,
    );
    const delivered = receiver.received() - before;

    await context.rootPool.query("delete from graphile_worker._private_jobs");
    await context.rootPool.query(
      "select graphile_worker.add_job('bench__noop', '{}'::json) from generate_series(1, $1)",
      [jobs],
    );
    const noopJobsPerSecond = await drain(pool, { bench__noop: async () => {} }, "bench__noop", jobs);
    return {
      jobs,
      concurrency: CONCURRENCY,
      webhookJobsPerSecond: round(webhookJobsPerSecond, 1),
      noopJobsPerSecond: round(noopJobsPerSecond, 1),
      ratio: round(webhookJobsPerSecond / noopJobsPerSecond),
      delivered,
    };
  } finally {
    await pool.end();
  }
}
