/**
 * The hot queries never scan a whole tenant table: the incident list as the visitor (with the
 * policies' membership check), the status snapshot rebuild as the worker runs it (the owner
 * fenced to one organization), and the membership helper app_hidden.current_org_role. On a
 * moderate dataset (the benchmark's generator) with fresh statistics and seq scans allowed,
 * auto_explain reports the plan of every statement they run, nested ones in functions and
 * policies included, and no plan may contain a Seq Scan on a table with an organization_id.
 * Tables the generator leaves empty (API keys, alert sources, uptime roll-ups, per-update
 * service changes, snapshots) are not checked: scanning an empty table is the planner's right
 * choice and says nothing about scale.
 * A plan test, not a timing: it asserts nothing about speed.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchIdentity, generateDataset } from "../../server/bench/dataset.ts";
import { LIST_RLS } from "../../server/bench/rlsOverhead.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

// Enough rows that an index is the planner's honest choice in every tenant table: with a few
// dozen rows a seq scan of one page is rightly cheaper, and says nothing about scale.
const ORGANIZATIONS = 1000;
const INCIDENTS_PER_ORGANIZATION = 20;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

let db: TestDatabase;
let tenantTables: Set<string>;
let identity: Awaited<ReturnType<typeof benchIdentity>>;

beforeAll(async () => {
  db = await createTestDatabase();
  await generateDataset(db.config, db.rootPool, {
    organizations: ORGANIZATIONS,
    incidentsPerOrganization: INCIDENTS_PER_ORGANIZATION,
    snapshots: false,
  });
  const { rows } = await db.rootPool.query<{ name: string }>(
    `select distinct c.relname as name
     from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid
     where n.nspname in ('app_public', 'app_private') and c.relkind = 'r' and a.attname = 'organization_id'
       and not a.attisdropped and c.reltuples > 0`,
  );
  tenantTables = new Set([...rows.map((row) => row.name), "organizations"]);
  expect(tenantTables).toContain("incidents");
  identity = await benchIdentity(db.rootPool, 17);
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

/** Runs `fn` in a rolled-back transaction and returns the plans of every statement it ran. */
async function plansOf(fn: (client: pg.PoolClient) => Promise<void>): Promise<PlanNode[]> {
  const client = await db.rootPool.connect();
  const plans: PlanNode[] = [];
  const collect = (notice: { message?: string }) => {
    const text = notice.message ?? "";
    const start = text.indexOf("{");
    if (text.includes("plan:") && start >= 0) plans.push((JSON.parse(text.slice(start)) as { Plan: PlanNode }).Plan);
  };
  client.on("notice", collect);
  try {
    await client.query(`load 'auto_explain'`);
    await client.query(
      `set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
       set auto_explain.log_format = json; set client_min_messages = log`,
    );
    await client.query("begin");
    await fn(client);
  } finally {
    await client.query("rollback").catch(() => undefined);
    await client.query("reset all").catch(() => undefined);
    client.off("notice", collect);
    client.release();
  }
  return plans;
}

function seqScansOnTenantTables(plans: PlanNode[]): string[] {
  const found: string[] = [];
  const walk = (node: PlanNode) => {
    if (node["Node Type"] === "Seq Scan" && tenantTables.has(node["Relation Name"] ?? "")) {
      found.push(node["Relation Name"]!);
    }
    node.Plans?.forEach(walk);
  };
  plans.forEach(walk);
  return found;
}

async function asVisitor(client: pg.PoolClient) {
  await client.query(
    `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
            set_config('jwt.claims.session_id', $3, true), set_config('jwt.claims.org_id', $4, true)`,
    [db.config.roles.visitor, identity.userId, identity.sessionId, identity.organizationId],
  );
}

describe("hot query plans on the scale dataset", () => {
  it("lists incidents as the visitor without scanning a tenant table", async () => {
    const plans = await plansOf(async (client) => {
      await asVisitor(client);
      const { rowCount } = await client.query(LIST_RLS);
      expect(rowCount).toBe(Math.min(21, INCIDENTS_PER_ORGANIZATION));
    });
    expect(plans.length).toBeGreaterThan(1);
    expect(seqScansOnTenantTables(plans)).toEqual([]);
  });

  it("checks membership (current_org_role) without scanning a tenant table", async () => {
    const plans = await plansOf(async (client) => {
      await asVisitor(client);
      const { rows } = await client.query<{ role: string }>("select app_hidden.current_org_role() as role");
      expect(rows[0]!.role).toBe("owner");
    });
    expect(seqScansOnTenantTables(plans)).toEqual([]);
  });

  it("rebuilds a status snapshot as the worker does without scanning a tenant table", async () => {
    const plans = await plansOf(async (client) => {
      await client.query(`select set_config('role', $1, true), set_config('jwt.claims.org_id', $2, true)`, [
        db.config.roles.owner,
        identity.organizationId,
      ]);
      const { rows } = await client.query<{ version: string }>(
        "select app_private.rebuild_status_snapshot($1) as version",
        [identity.organizationId],
      );
      expect(Number(rows[0]!.version)).toBe(1);
    });
    expect(plans.length).toBeGreaterThan(10);
    expect(seqScansOnTenantTables(plans)).toEqual([]);
  });
});
