/**
 * `npm run bench`: builds a scale dataset in a throw-away embedded PostgreSQL and measures,
 * each against a reference run on the same machine in the same run (the machines are shared
 * and noisy, so only the ratios compare between runs):
 *
 *   1. the public read path (readPath.ts)      4. snapshot coalescing (coalescing.ts)
 *   2. RLS overhead (rlsOverhead.ts)           5. worker throughput (workerThroughput.ts)
 *   3. live updates (liveUpdates.ts)
 *
 * Writes BENCHMARKS.md and BENCHMARKS.json. `--quick` (CI) uses a tiny dataset and few
 * clients, asserts nothing about speed, and writes .data/bench-quick.json and
 * .data/bench-quick.md only. Sizes: --orgs=1000 --incidents=1000 --sse-clients=10000
 * --iterations=5000 --writes=1000 --jobs=2000 --load-seconds=10 --connections=100.
 */
import "../src/preload.ts";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import pg from "pg";
import { startEmbeddedCluster } from "../../db/src/cluster.ts";
import { rolesFor, withCredentials, type DatabaseConfig } from "../../db/src/config.ts";
import { PROJECT_ROOT, prepareDatabase } from "../../db/src/setup.ts";
import { measureCoalescing } from "./coalescing.ts";
import { parseOptions, startProduct, type BenchContext, type Product } from "./common.ts";
import { generateDataset, rootUrlOf } from "./dataset.ts";
import { measureLiveUpdates } from "./liveUpdates.ts";
import { measureReadPath } from "./readPath.ts";
import { describeMachine, markdown, type BenchResults } from "./report.ts";
import { measureRlsOverhead } from "./rlsOverhead.ts";
import { createBenchEndpoint, measureWorkerThroughput, startReceiver } from "./workerThroughput.ts";

const options = parseOptions(process.argv.slice(2));
const log = (message: string) => console.log(message);

/**
 * Every SSE client holds a file descriptor in this process and one in the product's. When the
 * soft limit is too low for the client count and the hard limit allows more, the bench runs
 * itself again under `ulimit -n` (a process cannot raise its own limit from Node.js).
 */
async function openFilesLimit(): Promise<{ soft: number; hard: number }> {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(await readFile("/proc/self/limits", "utf8"));
  const parse = (value: string | undefined) => (value === "unlimited" || !value ? Infinity : Number(value));
  return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
}

const neededFiles = options.sseClients + 2048;
const limit = await openFilesLimit();
if (limit.soft < neededFiles && !process.env.BENCH_FILES_RAISED) {
  if (limit.hard < neededFiles) {
    console.warn(
      `The open files limit (${limit.hard}) is below the ${neededFiles} that ${options.sseClients} SSE clients ` +
        "need: raise it (ulimit -Hn, /etc/security/limits.conf) or pass a smaller --sse-clients.",
    );
  } else {
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        `ulimit -n ${neededFiles} && exec "$0" "$@"`,
        process.execPath,
        ...process.execArgv,
        ...process.argv.slice(1),
      ],
      { stdio: "inherit", env: { ...process.env, BENCH_FILES_RAISED: "1" } },
    );
    process.exit(await new Promise<number>((resolveExit) => child.on("exit", (code) => resolveExit(code ?? 1))));
  }
}

const startedAt = new Date();
const dataDir = await mkdtemp(join(tmpdir(), "incidentpulse-bench-"));
const superuserPassword = randomBytes(12).toString("hex");
log(`Starting PostgreSQL in ${dataDir}`);
const cluster = await startEmbeddedCluster({ dataDir: join(dataDir, "pg"), superuserPassword, ephemeral: true });
const name = "incidentpulse_bench";
const roles = rolesFor(name);
const at = { port: cluster.port };
const database: DatabaseConfig = {
  name,
  roles,
  ownerUrl: withCredentials(at, roles.owner, randomBytes(12).toString("hex"), name),
  authenticatorUrl: withCredentials(at, roles.authenticator, randomBytes(12).toString("hex"), name),
  rootUrl: withCredentials(at, cluster.superuser, superuserPassword, "postgres"),
};
let rootPool: pg.Pool | null = null;
let product: Product | null = null;
let exitCode = 1;

try {
  // The schema as the tests see it: committed migrations and the work in progress.
  await prepareDatabase(database, { reset: true, includeCurrent: true });
  rootPool = new pg.Pool({ connectionString: rootUrlOf(database), max: 4 });
  rootPool.on("error", () => undefined);
  const context: BenchContext = { options, database, rootPool, dataDir };
  const postgres = (await rootPool.query<{ v: string }>("select 'PostgreSQL ' || current_setting('server_version') v"))
    .rows[0]!.v;
  const files = await openFilesLimit();

  log(`Generating ${options.organizations} organizations × ${options.incidentsPerOrganization} incidents`);
  const dataset = await generateDataset(database, rootPool, {
    organizations: options.organizations,
    incidentsPerOrganization: options.incidentsPerOrganization,
    snapshots: true,
    log,
  });
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    quick: options.quick,
    options,
    machine: describeMachine(postgres, `${files.soft} (hard ${files.hard})`),
    dataset,
  };

  product = await startProduct(context);
  // Live updates first: memory per connection is measured against a product that has not
  // served any load yet.
  log(`Live updates at ${options.sseClients} clients`);
  results.liveUpdates = await measureLiveUpdates(context, product);
  log("Read path");
  results.readPath = await measureReadPath(context, product);
  log("RLS overhead");
  results.rlsOverhead = await measureRlsOverhead(context, product);
  log(`Coalescing ${options.coalescingWrites} writes`);
  results.coalescing = await measureCoalescing(context);

  const receiver = await startReceiver();
  try {
    const endpointOrganization = await createBenchEndpoint(context, product, receiver);
    await product.stop();
    product = null;
    log(`Worker throughput, ${options.workerJobs} jobs`);
    results.workerThroughput = await measureWorkerThroughput(context, receiver, endpointOrganization);
  } finally {
    await receiver.stop();
  }

  results.durationSeconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  const { quick } = options;
  const jsonFile = resolve(PROJECT_ROOT, quick ? ".data/bench-quick.json" : "BENCHMARKS.json");
  const markdownFile = resolve(PROJECT_ROOT, quick ? ".data/bench-quick.md" : "BENCHMARKS.md");
  await mkdir(dirname(jsonFile), { recursive: true });
  await writeFile(jsonFile, JSON.stringify(results, null, 2) + "\n");
  const report = markdown(results);
  await writeFile(markdownFile, report);
  log(`\n${report}\nWritten to ${markdownFile} and ${jsonFile}`);
  exitCode = 0;
} catch (error) {
  console.error(error);
} finally {
  await product?.stop().catch(() => undefined);
  await rootPool?.end().catch(() => undefined);
  await cluster.stop().catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
