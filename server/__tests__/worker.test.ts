/**
 * Worker tasks run for real against the database, through graphile-worker.
 */
import pg from "pg";
import { quickAddJob, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../db/__tests__/helpers/database.ts";
import { makeTaskList } from "../src/worker/index.ts";
import { testWorkerContext } from "./helpers/workerContext.ts";

const taskList = makeTaskList(testWorkerContext());

let db: TestDatabase;
let ownerPool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  ownerPool = new pg.Pool({ connectionString: db.config.ownerUrl });
  ownerPool.on("error", () => undefined);
  ownerPool.on("connect", (client) => client.on("error", () => undefined));
});
afterAll(async () => {
  await ownerPool.end();
  await db.drop();
});

describe("sessions__purge_expired", () => {
  it("forgets sessions that ended over a month ago and expired throttle counters, nothing else", async () => {
    const { rows } = await db.rootPool.query<{ id: string }>(
      "insert into app_public.users (email, name) values ('purge@example.com', 'Purge') returning id",
    );
    const userId = rows[0]!.id;
    await db.rootPool.query(
      `insert into app_private.sessions (user_id, created_at, expires_at, revoked_at) values
         ($1, now() - interval '90 days', now() - interval '60 days', null),
         ($1, now() - interval '50 days', now() + interval '1 day', now() - interval '40 days'),
         ($1, now() - interval '1 day', now() - interval '1 hour', null),
         ($1, now(), now() + interval '14 days', null)`,
      [userId],
    );
    await db.rootPool.query(
      `insert into app_private.rate_limits (key, points, expire) values
         ('login-email:old', 3, (extract(epoch from now()) * 1000 - 60000)::bigint),
         ('login-email:new', 3, (extract(epoch from now()) * 1000 + 60000)::bigint)`,
    );

    await quickAddJob({ pgPool: ownerPool }, "sessions__purge_expired", {});
    await runOnce({ pgPool: ownerPool, taskList, noHandleSignals: true });

    const sessions = await db.rootPool.query(
      "select expires_at > now() as live from app_private.sessions where user_id = $1",
      [userId],
    );
    expect(sessions.rowCount).toBe(2);
    const limits = await db.rootPool.query<{ key: string }>("select key from app_private.rate_limits");
    expect(limits.rows.map((row) => row.key)).toEqual(["login-email:new"]);
    const failed = await db.rootPool.query("select count(*)::int as n from graphile_worker.jobs");
    expect(failed.rows[0].n).toBe(0);
  });
});

describe("status snapshot tasks", () => {
  it("rebuild on changes (one job per organization) and roll up uptime nightly for every organization", async () => {
    const { rows } = await db.rootPool.query<{ id: string }>(
      "insert into app_public.organizations (name, slug) values ('Nightly', 'nightly'), ('Other', 'other') returning id",
    );
    const [nightly, other] = rows.map((row) => row.id) as [string, string];
    for (const org of [nightly, other]) {
      const client = await db.rootPool.connect();
      try {
        await client.query("begin");
        await client.query("select set_config('jwt.claims.org_id', $1, true)", [org]);
        const service = await client.query<{ id: string }>(
          "insert into app_public.services (name) values ('Core') returning id",
        );
        // Two days of history, so there is a finished day to roll up.
        await client.query(
          "update app_public.service_status_intervals set started_at = now() - interval '2 days' where service_id = $1",
          [service.rows[0]!.id],
        );
        await client.query("commit");
      } finally {
        client.release();
      }
    }
    // The inserts queued rebuilds a moment ahead (to coalesce bursts); run them, then the nightly task.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await runOnce({ pgPool: ownerPool, taskList, noHandleSignals: true });
    const built = await db.rootPool.query<{ slug: string; version: string }>(
      "select slug, version from app_public.status_snapshots where organization_id = any($1) order by slug",
      [[nightly, other]],
    );
    expect(built.rows).toEqual([
      { slug: "nightly", version: "1" },
      { slug: "other", version: "1" },
    ]);

    await quickAddJob({ pgPool: ownerPool }, "status_snapshots__roll_up", {});
    await runOnce({ pgPool: ownerPool, taskList, noHandleSignals: true });
    const rolled = await db.rootPool.query<{ organization_id: string; days: number }>(
      "select organization_id, count(*)::int as days from app_public.service_uptime_days where organization_id = any($1) group by organization_id order by organization_id",
      [[nightly, other]],
    );
    expect(rolled.rows.map((row) => row.days)).toEqual([2, 2]);
    const failed = await db.rootPool.query(
      "select count(*)::int as n from graphile_worker.jobs where last_error is not null",
    );
    expect(failed.rows[0].n).toBe(0);
  });
});

describe("integrations__purge_history", () => {
  it("forgets old events, expired links and stale alert requests in every organization, and keeps the rest", async () => {
    const { rows } = await db.rootPool.query<{ id: string }>(
      "insert into app_public.organizations (name, slug) values ('Keep', 'purge-a'), ('Keep too', 'purge-b') returning id",
    );
    const organizations = rows.map((row) => row.id);
    for (const org of organizations) {
      await db.rootPool.query(
        `insert into app_public.events (organization_id, type, subject_id, is_public, payload, transaction_id, created_at)
         values ($1, 'incident.created', gen_random_uuid(), true, '{}', 1, now() - interval '40 days'),
                ($1, 'incident.created', gen_random_uuid(), true, '{"fresh": true}', 2, now() - interval '1 day')`,
        [org],
      );
    }

    await quickAddJob({ pgPool: ownerPool }, "integrations__purge_history", {});
    await runOnce({ pgPool: ownerPool, taskList, noHandleSignals: true });

    const left = await db.rootPool.query<{ organization_id: string; fresh: boolean }>(
      "select organization_id, (payload ->> 'fresh')::boolean as fresh from app_public.events where organization_id = any($1) order by organization_id",
      [organizations],
    );
    expect(left.rows.map((row) => row.fresh)).toEqual([true, true]);
    const failed = await db.rootPool.query(
      "select count(*)::int as n from graphile_worker.jobs where last_error is not null",
    );
    expect(failed.rows[0].n).toBe(0);
  });
});
