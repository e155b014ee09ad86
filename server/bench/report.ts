/**
 * The run's results as JSON and as BENCHMARKS.md: machine and versions, dataset, and each
 * figure next to its reference, the ratio, and whether the goal was met.
 */
import { cpus, release, totalmem } from "node:os";
import type { BenchOptions } from "./common.ts";
import type { CoalescingResult } from "./coalescing.ts";
import type { DatasetSummary } from "./dataset.ts";
import type { LiveUpdatesResult } from "./liveUpdates.ts";
import type { ReadPathResult } from "./readPath.ts";
import type { RlsOverheadResult } from "./rlsOverhead.ts";
import type { WorkerThroughputResult } from "./workerThroughput.ts";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  node: string;
  postgres: string;
  openFilesLimit: string;
}

export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  quick: boolean;
  options: BenchOptions;
  machine: Machine;
  dataset: DatasetSummary;
  readPath?: ReadPathResult;
  rlsOverhead?: RlsOverheadResult;
  liveUpdates?: LiveUpdatesResult;
  coalescing?: CoalescingResult;
  workerThroughput?: WorkerThroughputResult;
}

export function describeMachine(postgres: string, openFilesLimit: string): Machine {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGb: Number((totalmem() / 2 ** 30).toFixed(1)),
    os: `Linux ${release()}`,
    node: process.version,
    postgres,
    openFilesLimit,
  };
}

const yes = (met: boolean) => (met ? "met" : "**missed**");
const n = (value: number) => value.toLocaleString("en-US");

export function markdown(results: BenchResults): string {
  const { machine, dataset, readPath, rlsOverhead: rls, liveUpdates: live, coalescing, workerThroughput } = results;
  const lines = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (server/bench/); do not edit by hand. Every figure is measured against a reference",
    "run in the same process on the same machine, because the machines are shared and noisy: the ratios are what",
    "to compare between runs, the absolute numbers only describe this one.",
    "",
    `Run ${results.startedAt}, ${Math.round(results.durationSeconds)} s in all.`,
    "",
    "## Machine",
    "",
    `- ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB memory, ${machine.os}`,
    `- Node.js ${machine.node}; ${machine.postgres} (embedded, fsync off)`,
    `- Open files limit ${machine.openFilesLimit}`,
    "",
    "## Dataset",
    "",
    `${n(dataset.organizations)} organizations × ${n(dataset.incidentsPerOrganization)} incidents, loaded in ` +
      `${dataset.loadSeconds.toFixed(1)} s, snapshots built in ${dataset.snapshotSeconds.toFixed(1)} s, ` +
      `ANALYZE ${dataset.analyzeSeconds.toFixed(1)} s.`,
    "",
    "| Table | Rows |",
    "| --- | ---: |",
    ...Object.entries(dataset.rows).map(([table, rows]) => `| ${table} | ${n(rows)} |`),
    "",
    "## Results",
    "",
    "| Measurement | Figure | Reference | Ratio | Goal | |",
    "| --- | --- | --- | ---: | --- | --- |",
  ];
  if (readPath) {
    lines.push(
      `| Public read path: summary.json (${n(readPath.summaryBytes)} bytes) | ${n(readPath.product.requestsPerSecond)} req/s, p99 ${readPath.product.p99Ms} ms | bare node:http, same bytes: ${n(readPath.reference.requestsPerSecond)} req/s, p99 ${readPath.reference.p99Ms} ms | ${readPath.ratio}× | ${readPath.goal} | ${yes(readPath.met)} |`,
    );
  }
  if (rls) {
    lines.push(
      `| RLS overhead: incidents list, first 20 newest, as the visitor (${n(rls.incidents)} incidents, ${n(rls.iterations)} runs) | p50 ${rls.rls.p50Ms} ms, p95 ${rls.rls.p95Ms} ms | superuser with explicit organization filter: p50 ${rls.reference.p50Ms} ms, p95 ${rls.reference.p95Ms} ms | ${rls.ratioP50}× (p95 ${rls.ratioP95}×) | ${rls.goal} | ${yes(rls.met)} |`,
      `| The same list through GraphQL over HTTP (${rls.graphql.connections} connections) | ${n(rls.graphql.requestsPerSecond)} req/s, p97.5 ${rls.graphql.p97_5Ms} ms, p99 ${rls.graphql.p99Ms} ms | \`{ __typename }\`, same token: ${n(rls.graphql.reference.requestsPerSecond)} req/s, p99 ${rls.graphql.reference.p99Ms} ms | ${rls.graphql.ratio}× | – (reported) | |`,
    );
  }
  if (live) {
    lines.push(
      `| Live updates: change → SSE event at ${n(live.clients)} clients (${live.rounds} rounds after a warm-up) | p50 ${live.p50Ms} ms, p99 ${live.p99Ms} ms | the mutation's own round trip: ${live.mutationMs} ms | – | p99 ≤ 500 ms | ${yes(live.met.p99)} |`,
      `| Server memory per SSE connection | ${live.serverMemoryPerConnectionKb} KB | – | – | ≤ 16 KB | ${yes(live.met.memory)} |`,
    );
  }
  if (coalescing) {
    lines.push(
      `| Coalescing: ${n(coalescing.writes)} writes to one organization in ${coalescing.writeSeconds} s | ${n(coalescing.rebuilds)} snapshot rebuilds, settled ${coalescing.settleMs} ms after the last write; final snapshot ${coalescing.finalSnapshotMatches ? "equals" : "**differs from**"} a from-scratch build | one rebuild per write | ${coalescing.ratio} rebuilds/write | fewer rebuilds than writes, final snapshot exact | ${yes(coalescing.met)} |`,
    );
  }
  if (workerThroughput) {
    const w = workerThroughput;
    lines.push(
      `| Worker: webhook deliveries (${n(w.jobs)} jobs, concurrency ${w.concurrency}, ${n(w.delivered)} received) | ${n(w.webhookJobsPerSecond)} jobs/s | graphile-worker no-op task: ${n(w.noopJobsPerSecond)} jobs/s | ${w.ratio}× | – (reported) | |`,
    );
  }
  if (rls) lines.push("", "### Plan of the incidents list under RLS", "", "```", rls.planRls, "```");
  return lines.join("\n") + "\n";
}
