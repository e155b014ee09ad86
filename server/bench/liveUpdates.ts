/**
 * Live updates: N clients hold the public status stream (/status/<slug>/events); an owner
 * changes an incident through GraphQL; the time from sending that mutation to each client
 * seeing the new snapshot version (the mutation's round trip, the rebuild job, NOTIFY and the
 * fan-out), as p50 and p99 over several rounds. The mutation's own round trip is reported
 * alongside as the reference: it bounds how much of the latency is the write itself. Server
 * memory per connection is the product's RSS growth while the streams open, divided by N,
 * each side measured after a full garbage collection.
 *
 * Clients spread over several local source addresses (127.0.0.x, one per 5,000 clients) so
 * they never run out of ephemeral ports; each connection costs a file descriptor on both
 * sides, so `ulimit -n` must exceed N (main.ts raises the soft limit when the hard one allows).
 */
import http from "node:http";
import { benchSlug, graphql, percentile, round, signIn, sleep, type BenchContext, type Product } from "./common.ts";

export const LIVE_P99_GOAL_MS = 500;
export const LIVE_MEMORY_GOAL_KB = 16;
const CLIENTS_PER_SOURCE_ADDRESS = 5000;
const OPEN_BATCH = 500;

export interface LiveUpdatesResult {
  clients: number;
  sourceAddresses: number;
  rounds: number;
  p50Ms: number;
  p99Ms: number;
  /** The mutation's own round trip (median over rounds): the write, before any fan-out. */
  mutationMs: number;
  serverMemoryPerConnectionKb: number;
  goal: string;
  met: { p99: boolean; memory: boolean };
}

/** Opens SSE clients; for each, the time it sees a version above a given one. */
function openStreams(url: string, count: number, sourceAddresses: number) {
  const requests: http.ClientRequest[] = [];
  const listeners: ((version: number, at: number) => void)[] = [];
  const latest: number[] = new Array<number>(count).fill(0);
  const open = (index: number) =>
    new Promise<void>((resolveReady, reject) => {
      const request = http.get(
        url,
        {
          headers: { accept: "text/event-stream" },
          agent: false,
          localAddress: `127.0.0.${1 + (index % sourceAddresses)}`,
        },
        (response) => {
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
        },
      );
      request.on("error", reject);
      requests.push(request);
    });
  return {
    /** Opens them in batches, so the server is not asked for thousands of streams at once. */
    async ready() {
      for (let start = 0; start < count; start += OPEN_BATCH) {
        const batch = [];
        for (let index = start; index < Math.min(count, start + OPEN_BATCH); index++) batch.push(open(index));
        await Promise.all(batch);
      }
    },
    seen: () => latest.reduce((a, b) => Math.min(a, b)),
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
    close: () => requests.forEach((request) => request.destroy()),
  };
}

export async function measureLiveUpdates(context: BenchContext, product: Product): Promise<LiveUpdatesResult> {
  const clients = context.options.sseClients;
  const sourceAddresses = Math.min(250, Math.ceil(clients / CLIENTS_PER_SOURCE_ADDRESS));
  const token = await signIn(product.origin, 1);
  const rssBefore = await product.settledRssKilobytes();
  const streams = openStreams(`${product.origin}/status/${benchSlug(1)}/events`, clients, sourceAddresses);
  const latencies: number[] = [];
  const mutationTimes: number[] = [];
  const rounds = context.options.quick ? 2 : 5;
  try {
    await streams.ready();
    const rssAfter = await product.settledRssKilobytes();
    // Round 0 warms up (the first mutation after start plans its query and warms the JIT) and
    // is not counted.
    for (let index = 0; index <= rounds; index++) {
      const arrivals = streams.nextVersionTimes(streams.seen());
      const sentAt = performance.now();
      await graphql(
        product.origin,
        `
          mutation C($title: String!) {
            createIncident(input: { incident: { title: $title } }) {
              clientMutationId
            }
          }
        `,
        { title: `Live update ${index}` },
        token,
      );
      const mutationMs = performance.now() - sentAt;
      const times = await arrivals;
      if (index > 0) {
        mutationTimes.push(mutationMs);
        latencies.push(...times.map((at) => at - sentAt));
      }
      await sleep(200);
    }
    const p99Ms = round(percentile(latencies, 99), 1);
    const serverMemoryPerConnectionKb = round((rssAfter - rssBefore) / clients, 1);
    return {
      clients,
      sourceAddresses,
      rounds,
      p50Ms: round(percentile(latencies, 50), 1),
      p99Ms,
      mutationMs: round(percentile(mutationTimes, 50), 1),
      serverMemoryPerConnectionKb,
      goal: `p99 ≤ ${LIVE_P99_GOAL_MS} ms, ≤ ${LIVE_MEMORY_GOAL_KB} KB per connection`,
      met: { p99: p99Ms <= LIVE_P99_GOAL_MS, memory: serverMemoryPerConnectionKb <= LIVE_MEMORY_GOAL_KB },
    };
  } finally {
    streams.close();
  }
}
