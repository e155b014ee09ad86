/**
 * Worker tasks run for real against the database, through graphile-worker.
 */
import pg from "pg";
import { quickAddJob, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../db/__tests__/helpers/database.ts";
import { taskList } from "../src/worker/index.ts";

let db: TestDatabase;
let ownerPool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  ownerPool = new pg.Pool({ connectionString: db.config.ownerUrl });
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
