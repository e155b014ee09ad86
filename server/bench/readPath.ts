/**
 * The public read path: requests per second and p99 for /status/<slug>/api/v2/summary.json,
 * against a bare node:http server answering the same bytes and headers from a process of its
 * own (like the product; the load generator runs in the bench process). Alternates reference
 * and product twice; the better run of each counts.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import autocannon from "autocannon";
import { benchSlug, round, sleep, type BenchContext, type Product } from "./common.ts";

export const READ_PATH_GOAL_RATIO = 0.5;

export interface LoadResult {
  requestsPerSecond: number;
  p99Ms: number;
}

export interface ReadPathResult {
  summaryBytes: number;
  product: LoadResult;
  reference: LoadResult;
  /** Product requests per second / reference requests per second. */
  ratio: number;
  goal: string;
  met: boolean;
}

async function load(context: BenchContext, url: string): Promise<LoadResult> {
  const { loadConnections: connections, loadSeconds: duration } = context.options;
  const result = await autocannon({ url, connections, duration });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { requestsPerSecond: round(result.requests.average, 1), p99Ms: result.latency.p99 };
}

async function waitForSummary(url: string): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(url);
    if (response.status === 200) return response;
    if (Date.now() > deadline) throw new Error(`${url} answered ${response.status}`);
    await sleep(200);
  }
}

async function referenceServer(dataDir: string, body: Buffer, headers: Record<string, string>) {
  const bodyFile = join(dataDir, "reference-body");
  await writeFile(bodyFile, body);
  const program = `
    const http = require("node:http");
    const body = require("node:fs").readFileSync(${JSON.stringify(bodyFile)});
    const headers = ${JSON.stringify(headers)};
    const server = http.createServer((_req, res) => { res.writeHead(200, headers); res.end(body); });
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));
  `;
  const child = spawn(process.execPath, ["-e", program], { stdio: ["ignore", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return {
    url: `http://127.0.0.1:${Number(chunk.toString().trim())}/`,
    async stop() {
      child.kill();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

export async function measureReadPath(context: BenchContext, product: Product): Promise<ReadPathResult> {
  const summaryUrl = `${product.origin}/status/${benchSlug(1)}/api/v2/summary.json`;
  const first = await waitForSummary(summaryUrl);
  const body = Buffer.from(await first.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const name of ["content-type", "etag", "cache-control", "access-control-allow-origin"]) {
    const value = first.headers.get(name);
    if (value) headers[name] = value;
  }
  const reference = await referenceServer(context.dataDir, body, headers);
  const referenceRuns: LoadResult[] = [];
  const productRuns: LoadResult[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      referenceRuns.push(await load(context, reference.url));
      productRuns.push(await load(context, summaryUrl));
    }
  } finally {
    await reference.stop();
  }
  const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  const ours = best(productRuns);
  const bare = best(referenceRuns);
  const ratio = round(ours.requestsPerSecond / bare.requestsPerSecond);
  return {
    summaryBytes: body.length,
    product: ours,
    reference: bare,
    ratio,
    goal: `≥ ${READ_PATH_GOAL_RATIO}× requests/s`,
    met: ratio >= READ_PATH_GOAL_RATIO,
  };
}
