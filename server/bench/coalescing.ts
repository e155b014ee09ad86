/**
 * Coalescing: W writes to one organization within about a second, each its own transaction
 * (four connections, as a busy team or an alert storm would make them), while the product's
 * worker rebuilds. Every write's trigger asks for a rebuild under the job key status:<org>, so
 * the queue holds at most one waiting rebuild per organization. Counted: the rebuilds that
 * stored a new version (each one bumps the snapshot version; a rebuild that finds nothing new
 * stores nothing, so this is a lower bound on rebuilds run, and every write here changes the
 * page). Checked: once the queue is empty, the stored snapshot equals a from-scratch
 * app_private.build_status_snapshot of the organization (but for today's uptime seconds,
 * which grow with the clock).
 */
import pg from "pg";
import { benchIdentity, id, rootUrlOf } from "./dataset.ts";
import { round, sleep, type BenchContext } from "./common.ts";

const CONNECTIONS = 4;

export interface CoalescingResult {
  writes: number;
  writeSeconds: number;
  rebuilds: number;
  /** Rebuilds per write (the reference: one rebuild per write without coalescing). */
  ratio: number;
  /** From the last write's commit until the queue was empty and the final snapshot stored. */
  settleMs: number;
  finalSnapshotMatches: boolean;
  /** Top-level keys of the snapshot that differ from a from-scratch build (none when it matches). */
  differingKeys: string[];
  met: boolean;
}

export async function measureCoalescing(context: BenchContext): Promise<CoalescingResult> {
  const writes = context.options.coalescingWrites;
  // Not the organization the other measurements use, so their rebuilds do not interfere.
  const n = Math.min(2, context.options.organizations);
  const { organizationId } = await benchIdentity(context.rootPool, n);
  const { rootPool } = context;
  const jobKey = `status:${organizationId}`;
  const version = async () =>
    Number(
      (
        await rootPool.query<{ version: string }>(
          "select version from app_public.status_snapshots where organization_id = $1",
          [organizationId],
        )
      ).rows[0]?.version ?? 0,
    );
  const pendingJobs = async () =>
    Number(
      (await rootPool.query<{ count: string }>("select count(*) from graphile_worker.jobs where key = $1", [jobKey]))
        .rows[0]!.count,
    );

  const versionBefore = await version();
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const client = new pg.Client({ connectionString: rootUrlOf(context.database) });
      await client.connect();
      return client;
    }),
  );
  const started = performance.now();
  let next = 0;
  try {
    await Promise.all(
      clients.map(async (client) => {
        for (let write = next++; write < writes; write = next++) {
          // The newest incident is open and public: every write changes the page.
          await client.query(
            `update app_public.incidents set title = $2
             where organization_id = $1 and id = ${id("'incident-' || $3::int || '-1'")}`,
            [organizationId, `Coalescing write ${write}`, n],
          );
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
  const writesDone = performance.now();

  const deadline = Date.now() + 60_000;
  while ((await pendingJobs()) > 0) {
    if (Date.now() > deadline) {
      const { rows: jobs } = await rootPool.query(
        "select attempts, run_at, locked_at, last_error from graphile_worker.jobs where key = $1",
        [jobKey],
      );
      throw new Error(`the rebuild jobs did not finish within a minute: ${JSON.stringify(jobs)}`);
    }
    await sleep(20);
  }
  const settleMs = performance.now() - writesDone;
  const rebuilds = (await version()) - versionBefore;

  // Today's uptime seconds grow with the clock (by design), so `uptime` is left out of the
  // comparison; every other key must be equal. The keys that differ are reported.
  const { rows } = await rootPool.query<{ key: string }>(
    `select coalesce(a.key, b.key) as key
     from (select * from jsonb_each((select body from app_public.status_snapshots where organization_id = $1))) a
     full join jsonb_each(app_private.build_status_snapshot($1)) b on a.key = b.key
     where a.value is distinct from b.value and coalesce(a.key, b.key) <> 'uptime'`,
    [organizationId],
  );
  const differingKeys = rows.map((row) => row.key);
  const finalSnapshotMatches = differingKeys.length === 0;
  return {
    writes,
    writeSeconds: round((writesDone - started) / 1000, 2),
    rebuilds,
    ratio: round(rebuilds / writes, 4),
    settleMs: round(settleMs, 1),
    finalSnapshotMatches,
    differingKeys,
    met: finalSnapshotMatches && rebuilds < writes,
  };
}
