/**
 * The demo organization a first `npm start` creates: realistic, consistent with the status
 * rules, and seeded once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoDataOnce } from "../src/demo.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let single: TestDatabase;
let multi: TestDatabase;
beforeAll(async () => {
  [single, multi] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([single.drop(), multi.drop()]);
});

describe("demo data", () => {
  it("fills the default organization in single-tenant mode, once", async () => {
    const seeded = await seedDemoDataOnce(single.config.ownerUrl, false);
    expect(seeded?.slug).toBe("default");
    expect(await seedDemoDataOnce(single.config.ownerUrl, false)).toBeNull();

    const query = async (text: string) => (await single.rootPool.query(text, [seeded!.organizationId])).rows;
    expect(await query("select count(*)::int as n from app_public.services where organization_id = $1")).toEqual([
      { n: 6 },
    ]);
    expect(
      await query(
        "select status, count(*)::int as n from app_public.incidents where organization_id = $1 group by status order by status",
      ),
    ).toEqual([
      { status: "identified", n: 1 },
      { status: "resolved", n: 3 },
    ]);
    expect(
      await query(
        "select name, status from app_public.services where organization_id = $1 and status <> 'operational'",
      ),
    ).toEqual([{ name: "Email notifications", status: "degraded_performance" }]);
    expect(
      await query("select status from app_public.maintenance_windows where organization_id = $1 and starts_at > now()"),
    ).toEqual([{ status: "scheduled" }]);
    expect(
      await query(
        "select count(*)::int as n from app_public.incident_updates where organization_id = $1 and not is_public",
      ),
    ).toEqual([{ n: 1 }]);
  });

  it("writes a gapless, non-overlapping 90-day history for every service", async () => {
    const problems = await single.rootPool.query(
      `with ordered as (
         select service_id, started_at, ended_at,
                lag(ended_at) over (partition by service_id order by started_at) as previous_end
         from app_public.service_status_intervals
       )
       select service_id from ordered where previous_end is not null and previous_end <> started_at
       union all
       select service_id from app_public.service_status_intervals group by service_id
       having count(*) filter (where ended_at is null) <> 1 or min(started_at) > now() - interval '89 days'`,
    );
    expect(problems.rows).toEqual([]);
  });

  it("creates a separate demo organization in multi-tenant mode", async () => {
    const seeded = await seedDemoDataOnce(multi.config.ownerUrl, true);
    expect(seeded?.slug).toBe("demo");
    const { rows } = await multi.rootPool.query(
      "select count(*)::int as n from app_public.organizations where slug = 'default'",
    );
    expect(rows[0].n).toBe(0);
  });
});
