/**
 * What the benchmark modules share: the run's options, the bench database, percentiles, the
 * product started in a process of its own, and a GraphQL helper.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type pg from "pg";
import type { DatabaseConfig } from "../../db/src/config.ts";
import { findFreePort } from "../../db/src/cluster.ts";
import { PROJECT_ROOT } from "../../db/src/setup.ts";

export interface BenchOptions {
  quick: boolean;
  organizations: number;
  incidentsPerOrganization: number;
  sseClients: number;
  /** Seconds per autocannon run. */
  loadSeconds: number;
  loadConnections: number;
  /** Iterations of each query in the RLS comparison. */
  queryIterations: number;
  coalescingWrites: number;
  workerJobs: number;
}

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const number = (name: string, fallback: number) => {
    const prefix = `--${name}=`;
    const raw = argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
    if (raw === undefined) return fallback;
    const value = Number(raw.replace(/_/g, ""));
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  return {
    quick,
    organizations: number("orgs", quick ? 20 : 1000),
    incidentsPerOrganization: number("incidents", quick ? 50 : 1000),
    sseClients: number("sse-clients", quick ? 50 : 10_000),
    loadSeconds: number("load-seconds", quick ? 2 : 10),
    loadConnections: number("connections", quick ? 10 : 100),
    queryIterations: number("iterations", quick ? 200 : 5000),
    coalescingWrites: number("writes", quick ? 100 : 1000),
    workerJobs: number("jobs", quick ? 100 : 2000),
  };
}

/** The bench database, filled by the dataset generator. */
export interface BenchContext {
  options: BenchOptions;
  database: DatabaseConfig;
  /** Superuser on the bench database (bypasses RLS): fixtures and references. */
  rootPool: pg.Pool;
  dataDir: string;
}

export const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

export const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bench organization number `n` (1-based), as the dataset generator names it. */
export const benchSlug = (n: number) => `bench-${n}`;
export const benchEmail = (n: number) => `bench-${n}@example.com`;
export const BENCH_PASSWORD = "benchmark-password";
export const BENCH_JWT_SECRET = "benchmark-secret-benchmark-secret-benchmark";
export const BENCH_SECRETS_ENCRYPTION_KEY = "benchmark-encryption-key-benchmark-encryption-key";

export const rssKilobytes = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

export interface Product {
  origin: string;
  process: ChildProcess;
  /** The product's resident memory after a full garbage collection. */
  settledRssKilobytes(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The product (startServer with the bench database) in a process of its own, so the load
 * generators in this process do not share its event loop. Multi-tenant, no demo data.
 */
export async function startProduct(context: BenchContext, env: Record<string, string> = {}): Promise<Product> {
  const port = await findFreePort();
  // --expose-gc: product.ts collects garbage on SIGUSR2, so memory is measured without it.
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", resolve(PROJECT_ROOT, "server/bench/product.ts")],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        BENCH_DATABASE: JSON.stringify(context.database),
        DATA_DIR: context.dataDir,
        PORT: String(port),
        NODE_ENV: "production",
        LOG_LEVEL: "warn",
        MULTI_TENANT_ENABLED: "true",
        SEED_DEMO_DATA: "false",
        JWT_SECRET: BENCH_JWT_SECRET,
        SECRETS_ENCRYPTION_KEY: BENCH_SECRETS_ENCRYPTION_KEY,
        WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
        STATUS_STREAMS_PER_ADDRESS: String(context.options.sseClients + 10),
        // Sign-ins and the load generators all come from 127.0.0.x.
        LOGIN_MAX_FAILURES_PER_ADDRESS: "100000",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const deadline = Date.now() + 120_000;
  while (!/ready at/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the product did not start:\n${output}`);
    }
    await sleep(100);
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    process: child,
    async settledRssKilobytes() {
      child.kill("SIGUSR2");
      await sleep(1000);
      return rssKilobytes(child.pid!);
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

export async function graphql<T>(
  origin: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (response.status !== 200 || result.errors?.length) {
    throw new Error(`GraphQL answered ${response.status}: ${JSON.stringify(result.errors ?? result)}`);
  }
  return result.data!;
}

/** Signs in the owner of bench organization `n` and returns the bearer token. */
export async function signIn(origin: string, n: number): Promise<string> {
  const data = await graphql<{ login: { token: string } }>(
    origin,
    `
      mutation L($email: String!, $password: String!) {
        login(input: { email: $email, password: $password }) {
          token
        }
      }
    `,
    { email: benchEmail(n), password: BENCH_PASSWORD },
  );
  return data.login.token;
}
