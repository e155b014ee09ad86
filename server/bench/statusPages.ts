/**
 * `npm run bench`: the public status read path, measured against references run on the same
 * machine in the same run (these machines are shared and noisy, so only ratios mean much).
 *
 * 1. Requests per second and p99 for /status/<slug>/api/v2/summary.json, against a bare
 *    node:http server answering the same bytes.
 * 2. Time from a committed incident change to the SSE event at N connected clients (p50, p99),
 *    and the server's memory per connection.
 *
 * `--quick` runs a few seconds with few clients so CI keeps the code working; it asserts
 * nothing about speed. Results are printed and written to BENCHMARKS.json.
 */
import "../src/preload.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir, cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import autocannon from "autocannon";
import { findFreePort } from "../../db/src/cluster.ts";
import { PROJECT_ROOT } from "../../db/src/setup.ts";

const quick = process.argv.includes("--quick");
const LOAD_SECONDS = quick ? 2 : 10;
const CONNECTIONS = quick ? 10 : 100;
const SSE_CLIENTS = quick ? 50 : 1000;

interface LoadResult {
  requestsPerSecond: number;
  p99Ms: number;
}

async function load(url: string, headers: Record<string, string> = {}): Promise<LoadResult> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS, headers });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { requestsPerSecond: result.requests.average, p99Ms: result.latency.p99 };
}

async function startProduct(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(PROJECT_ROOT, "server/src/main.ts")], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      NODE_ENV: "production",
      JWT_SECRET: "benchmark-secret-benchmark-secret-benchmark",
      STATUS_STREAMS_PER_ADDRESS: String(SSE_CLIENTS + 10),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const deadline = Date.now() + 120_000;
  while (!/ready at/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

async function waitForSummary(url: string): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(url);
    if (response.status === 200) return response;
    if (Date.now() > deadline) throw new Error(`${url} answered ${response.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A reference server answering every request with the same bytes and headers as ours, in a
 * process of its own like the product (the load generator runs in this one).
 */
async function referenceServer(body: Buffer, headers: Record<string, string>): Promise<{ url: string; stop(): void }> {
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
  return { url: `http://127.0.0.1:${Number(chunk.toString().trim())}/`, stop: () => child.kill() };
}

const rssKilobytes = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Opens SSE clients and resolves, for each, the time it sees a version above `after`. */
function openStreams(url: string, count: number) {
  const sockets: http.ClientRequest[] = [];
  const ready: Promise<void>[] = [];
  const listeners: ((version: number, at: number) => void)[] = [];
  const latest: number[] = new Array(count).fill(0);
  for (let index = 0; index < count; index++) {
    ready.push(
      new Promise((resolveReady, reject) => {
        const request = http.get(url, { headers: { accept: "text/event-stream" }, agent: false }, (response) => {
          if (response.statusCode !== 200) return reject(new Error(`stream answered ${response.statusCode}`));
          let buffer = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            buffer += chunk;
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const id = /^id: ?(\d+)/m.exec(event)?.[1];
              if (id) {
                latest[index] = Math.max(latest[index]!, Number(id));
                resolveReady();
                listeners[index]?.(Number(id), performance.now());
              }
            }
          });
        });
        request.on("error", reject);
        sockets.push(request);
      }),
    );
  }
  return {
    ready: Promise.all(ready),
    /** The newest version every client has seen. */
    seen: () => Math.min(...latest),
    nextVersionTimes(after: number): Promise<number[]> {
      return Promise.all(
        Array.from(
          { length: count },
          (_, index) =>
            new Promise<number>((resolveTime) => {
              listeners[index] = (version, at) => {
                if (version > after) resolveTime(at);
              };
            }),
        ),
      );
    },
    close: () => sockets.forEach((socket) => socket.destroy()),
  };
}

const dataDir = await mkdtemp(join(tmpdir(), "incidentpulse-bench-"));
const port = await findFreePort();
const origin = `http://127.0.0.1:${port}`;
const product = await startProduct(dataDir, port);
const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  quick,
};
try {
  const summaryUrl = `${origin}/status/default/api/v2/summary.json`;
  const first = await waitForSummary(summaryUrl);
  const body = Buffer.from(await first.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const name of ["content-type", "etag", "cache-control", "access-control-allow-origin"]) {
    const value = first.headers.get(name);
    if (value) headers[name] = value;
  }

  // 1. Read path, alternating reference and product twice; the better run of each counts.
  const reference = await referenceServer(body, headers);
  const referenceUrl = reference.url;
  const referenceRuns: LoadResult[] = [];
  const productRuns: LoadResult[] = [];
  for (let round = 0; round < 2; round++) {
    referenceRuns.push(await load(referenceUrl));
    productRuns.push(await load(summaryUrl));
  }
  reference.stop();
  const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  const ours = best(productRuns);
  const bare = best(referenceRuns);
  results.readPath = {
    summaryBytes: body.length,
    product: ours,
    reference: bare,
    ratio: Number((ours.requestsPerSecond / bare.requestsPerSecond).toFixed(3)),
  };

  // 2. Live updates at SSE_CLIENTS connections.
  const register = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: `mutation { register(input: { email: "bench@example.com", name: "Bench", password: "benchmark-password" }) { token } }`,
    }),
  });
  const token = ((await register.json()) as { data: { register: { token: string } } }).data.register.token;
  const rssBefore = await rssKilobytes(product.pid!);
  const streams = openStreams(`${origin}/status/default/events`, SSE_CLIENTS);
  await streams.ready;
  const rssAfter = await rssKilobytes(product.pid!);
  const latencies: number[] = [];
  const rounds = quick ? 2 : 5;
  for (let round = 0; round < rounds; round++) {
    const arrivals = streams.nextVersionTimes(streams.seen());
    const committedAt = performance.now();
    const changed = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `mutation { createIncident(input: { incident: { title: "Bench ${round}" } }) { clientMutationId } }`,
      }),
    });
    if (changed.status !== 200) throw new Error(`mutation answered ${changed.status}`);
    const times = await arrivals;
    latencies.push(...times.map((at) => at - committedAt));
  }
  streams.close();
  results.liveUpdates = {
    clients: SSE_CLIENTS,
    rounds,
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    serverMemoryPerConnectionKb: Number(((rssAfter - rssBefore) / SSE_CLIENTS).toFixed(1)),
  };
} finally {
  product.kill("SIGTERM");
  await once(product, "exit");
  await rm(dataDir, { recursive: true, force: true });
}

console.log(JSON.stringify(results, null, 2));
const output = resolve(PROJECT_ROOT, quick ? ".data/bench-quick.json" : "BENCHMARKS.json");
await mkdir(dirname(output), { recursive: true });
await writeFile(output, JSON.stringify(results, null, 2) + "\n");
