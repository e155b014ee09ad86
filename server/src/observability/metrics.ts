/**
 * Prometheus metrics (prom-client) in a registry of the server's own, so several servers in
 * one process (tests) never share counters. Labels are bounded: routes are the matched route
 * patterns, never raw URLs.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type pg from "pg";

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "incidentpulse_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "incidentpulse_http_request_duration_seconds",
    help: "Time to answer HTTP requests (until the response is finished), by route pattern.",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly graphqlOperations = new Counter({
    name: "incidentpulse_graphql_operations_total",
    help: "GraphQL operations executed, by operation type and outcome (ok or error).",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });

  readonly graphqlErrors = new Counter({
    name: "incidentpulse_graphql_errors_total",
    help: "Errors returned by GraphQL, by their extensions.code.",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: "incidentpulse_worker_jobs_total",
    help: "Worker job runs, by task and outcome: success, or error (failed: also out of attempts).",
    labelNames: ["task", "outcome"] as const,
    registers: [this.registry],
  });

  /** Per task; task="status_snapshots__rebuild" counts and times the snapshot rebuilds. */
  readonly jobDuration = new Histogram({
    name: "incidentpulse_worker_job_duration_seconds",
    help: "Time worker jobs ran, by task (status_snapshots__rebuild: the public snapshot rebuilds).",
    labelNames: ["task"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly openStreams = new Map<string, () => number>();
  private readonly pools = new Map<string, pg.Pool>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "incidentpulse_" });
    const streams = this.openStreams;
    new Gauge({
      name: "incidentpulse_sse_connections",
      help: "Open server-sent event streams, by kind (status pages, dashboard live updates).",
      labelNames: ["kind"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [kind, count] of streams) this.set({ kind }, count());
      },
    });
    const pools = this.pools;
    new Gauge({
      name: "incidentpulse_db_pool_connections",
      help: "Database pool connections, by pool and state (total, idle, waiting clients).",
      labelNames: ["pool", "state"] as const,
      registers: [this.registry],
      collect() {
        for (const [pool, watched] of pools) {
          this.set({ pool, state: "total" }, watched.totalCount);
          this.set({ pool, state: "idle" }, watched.idleCount);
          this.set({ pool, state: "waiting" }, watched.waitingCount);
        }
      },
    });
  }

  /** Reports a kind of open stream, read when metrics are scraped. */
  countStreams(kind: string, count: () => number): void {
    this.openStreams.set(kind, count);
  }

  /** Connection counts of a pg pool, read when metrics are scraped. */
  watchPool(name: string, pool: pg.Pool): void {
    this.pools.set(name, pool);
  }
}
