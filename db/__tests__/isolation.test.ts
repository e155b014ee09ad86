/**
 * The isolation matrix, generated from the catalog (reference/security.md, "Proving isolation",
 * steps 2 to 6): every tenant table × every actor acting in A × every command, against
 * organization B's rows. Nothing of B may be seen (by id, by count, by row) or changed (B's
 * rows are fingerprinted as root before and after each case). A table added later is covered
 * the moment it has an organization_id column; the role grid below must then declare it too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import type { Role } from "./helpers/factories.ts";
import { createFullWorld, type FullWorld } from "./helpers/fullSeed.ts";
import {
  ACTORS,
  COMMANDS,
  MATRIX_ACTOR_LABELS,
  checkCase,
  expectBUnchanged,
  inRolledBack,
  readableRows,
  prepareMatrix,
  runAs,
  tenantTables,
  type MatrixActor,
  type MatrixContext,
  type TenantTable,
} from "./helpers/isolationMatrix.ts";

const db: TestDatabase = await createTestDatabase();
const TABLES: TenantTable[] = await tenantTables(db);
let full: FullWorld;
let ctx: MatrixContext;

beforeAll(async () => {
  full = await createFullWorld(db.rootPool);
  ctx = await prepareMatrix(db, full, TABLES);
});
afterAll(async () => {
  await db.drop();
});

const countOf = async (text: string, values: unknown[]) =>
  (await db.rootPool.query<{ n: number }>(text, values)).rows[0]!.n;

describe("the generated isolation matrix", () => {
  it("covers every tenant table, each seeded with rows of B", async () => {
    expect(TABLES.length).toBeGreaterThan(30);
    const empty: string[] = [];
    for (const table of TABLES) {
      const n = await countOf(`select count(*)::int as n from ${table.name} where "${table.orgColumn}" = $1`, [
        full.b.organizationId,
      ]);
      if (n === 0) empty.push(table.name);
    }
    // A table without a row of B would pass every case below without testing anything.
    expect(empty, "tenant tables with no row of B: seed them in helpers/fullSeed.ts").toEqual([]);
    const cases = TABLES.length * ACTORS.length * COMMANDS.length;
    console.log(
      `isolation matrix: ${TABLES.length} tables × ${ACTORS.length} actors × ${COMMANDS.length} commands = ${cases} cases`,
    );
  });

  for (const table of TABLES) {
    describe(table.name, () => {
      for (const actor of ACTORS) {
        it(`${MATRIX_ACTOR_LABELS[actor]}: ${COMMANDS.length} commands against B`, async () => {
          await inRolledBack(db, async (client) => {
            // Each statement's effects are kept, so B is checked in every table once they all ran.
            for (const command of COMMANDS) await checkCase(client, ctx, table, actor, command, true);
            await expectBUnchanged(client, ctx, `${table.name} × ${MATRIX_ACTOR_LABELS[actor]}`);
          });
        });
      }
    });
  }
});

/**
 * The declared role grid in one's own organization: the least role for each command, `:person`
 * when API keys and alert sources (which act without a user) are excluded, "anyone" for public
 * data, null when nobody may through the table. Asserted both ways: allowed works, denied fails.
 */
type Need = Role | `${Role}:person` | "anyone" | null;
interface GridRow {
  select: Need;
  insert: Need;
  update: Need;
  delete: Need;
}
const N: GridRow = { select: null, insert: null, update: null, delete: null };
const readOnly = (select: Need): GridRow => ({ ...N, select });

const GRID: Record<string, GridRow> = {
  "app_public.alert_requests": readOnly("admin:person"),
  "app_public.alert_sources": {
    select: "viewer",
    insert: "admin:person",
    update: "admin:person",
    delete: "admin:person",
  },
  "app_public.api_keys": readOnly("admin:person"),
  "app_public.audit_log": readOnly("admin:person"),
  "app_public.chat_integrations": {
    select: "admin:person",
    insert: null,
    update: "admin:person",
    delete: "admin:person",
  },
  "app_public.events": readOnly("viewer"),
  "app_public.incident_alerts": { select: "viewer", insert: "editor", update: "editor", delete: null },
  "app_public.incident_attachments": { select: "viewer", insert: "editor", update: null, delete: "editor" },
  "app_public.incident_services": { select: "viewer", insert: "editor", update: "editor", delete: "editor" },
  "app_public.incident_update_service_changes": readOnly("viewer"),
  "app_public.incident_updates": { select: "viewer", insert: "editor", update: "editor", delete: "admin" },
  "app_public.incidents": { select: "viewer", insert: "editor", update: "editor", delete: "admin" },
  "app_public.maintenance_services": { select: "viewer", insert: "editor", update: null, delete: "editor" },
  "app_public.maintenance_windows": { select: "viewer", insert: "editor", update: "editor", delete: "admin" },
  "app_public.organization_invitations": { ...readOnly("admin:person"), update: "admin:person" },
  "app_public.organization_memberships": {
    select: "viewer",
    insert: null,
    update: "admin:person",
    delete: "admin:person",
  },
  // Deleting goes through requestOrganizationDeletion (a grace period, then the worker).
  "app_public.organizations": { select: "viewer:person", insert: null, update: "admin:person", delete: null },
  "app_public.service_groups": { select: "viewer", insert: "admin", update: "admin", delete: "admin" },
  "app_public.service_status_intervals": readOnly("viewer"),
  "app_public.service_uptime_days": readOnly("viewer"),
  "app_public.services": { select: "viewer", insert: "admin", update: "admin", delete: "admin" },
  "app_public.status_page_settings": { select: "viewer", insert: "admin", update: "admin", delete: null },
  "app_public.status_snapshots": readOnly("anyone"),
  "app_public.subscriber_services": readOnly("admin:person"),
  "app_public.subscribers": { ...readOnly("admin:person"), delete: "admin:person" },
  "app_public.webhook_deliveries": readOnly("admin:person"),
  "app_public.webhook_endpoints": {
    select: "admin:person",
    insert: null,
    update: "admin:person",
    delete: "admin:person",
  },
  // Credentials, tokens, billing and queues: never the API roles'.
  "app_private.alert_idempotency_keys": N,
  "app_private.alert_source_secrets": N,
  "app_private.api_key_hashes": N,
  "app_private.chat_integration_urls": N,
  "app_private.invitation_tokens": N,
  "app_private.organization_billing": N,
  "app_private.stripe_events": N,
  "app_private.subscriber_confirmation_tokens": N,
  "app_private.subscriber_notifications": N,
  "app_private.subscriber_unsubscribe_tokens": N,
  "app_private.webhook_endpoint_secrets": N,
};

const RANK: Role[] = ["viewer", "editor", "admin", "owner"];
/** What each actor is in A: its effective role, and whether a person stands behind it. */
const STANDING: Record<MatrixActor, { role: Role; person: boolean } | null> = {
  owner: { role: "owner", person: true },
  admin: { role: "admin", person: true },
  editor: { role: "editor", person: true },
  viewer: { role: "viewer", person: true },
  both: { role: "editor", person: true },
  keyViewer: { role: "viewer", person: false },
  keyEditor: { role: "editor", person: false },
  keyAdmin: { role: "admin", person: false },
  alertSource: { role: "editor", person: false },
  outsider: null,
  strangerClaimingB: null,
  anonymous: null,
};

function allows(need: Need, actor: MatrixActor): boolean {
  if (need === null) return false;
  if (need === "anyone") return true;
  const standing = STANDING[actor];
  if (!standing) return false;
  const [role, person] = need.split(":") as [Role, string | undefined];
  if (person && !standing.person) return false;
  return RANK.indexOf(standing.role) >= RANK.indexOf(role);
}

const ident = (name: string) => `"${name}"`;
/** The row of A each write of the grid targets, as a predicate over the table's primary key. */
async function targetOfA(table: TenantTable): Promise<{ where: string; values: unknown[]; row: unknown }> {
  const a = full.a.organizationId;
  const filter =
    table.name === "app_public.organization_memberships"
      ? { text: "user_id = $2", values: [full.a.spareUserId] }
      : { text: "true", values: [] };
  const { rows } = await db.rootPool.query<{ key: Record<string, unknown>; row: unknown }>(
    `select json_build_object(${table.primaryKey.map((c) => `'${c}', t.${ident(c)}`).join(", ")}) as key, to_jsonb(t) as row
     from ${table.name} t where t.${ident(table.orgColumn)} = $1 and ${filter.text}
     order by ${table.primaryKey.map(ident).join(", ")} limit 1`,
    [a, ...filter.values],
  );
  expect(rows, `${table.name}: A has a row`).toHaveLength(1);
  const key = rows[0]!.key;
  const columns = Object.keys(key);
  return {
    where: columns.map((c, i) => `t.${ident(c)}::text = $${i + 1}`).join(" and "),
    values: columns.map((c) => String(key[c])),
    row: rows[0]!.row,
  };
}

/** Outcomes of a write that got past the access checks without taking effect for another reason. */
const PAST_ACCESS_CHECKS = ["23505"];
const REFUSALS = ["42501", "IPF01", "IPF05", "IPA01"];

describe("the declared role grid, asserted both ways in one's own organization", () => {
  it("declares every tenant table, and only those", () => {
    expect(Object.keys(GRID).sort()).toEqual(TABLES.map((t) => t.name).sort());
  });

  for (const table of TABLES) {
    describe(table.name, () => {
      for (const actor of ACTORS) {
        it(MATRIX_ACTOR_LABELS[actor], async () => {
          const grid = GRID[table.name];
          if (!grid) return; // reported by the test above
          const a = full.a.organizationId;
          const target = await targetOfA(table);
          const ofA = await countOf(`select count(*)::int as n from ${table.name} where "${table.orgColumn}" = $1`, [
            a,
          ]);
          const t = table.name;
          const updateColumn = ident(table.updatable[0] ?? table.columns[0]!);
          const insertColumns = table.insertable.map(ident);
          const cases = {
            select: { text: readableRows(table, `t.${ident(table.orgColumn)} = $1`), values: [a] },
            update: {
              text: `update ${t} t set ${updateColumn} = t.${updateColumn} where ${target.where} returning 1 as row`,
              values: target.values,
            },
            delete: { text: `delete from ${t} t where ${target.where} returning 1 as row`, values: target.values },
            insert:
              insertColumns.length > 0
                ? {
                    text: `insert into ${t} (${insertColumns.join(", ")}) select ${insertColumns.map((c) => `r.${c}`).join(", ")}
                           from jsonb_populate_record(null::${t}, $1::jsonb) r returning 1 as row`,
                    values: [JSON.stringify(target.row)],
                  }
                : { text: `insert into ${t} default values returning 1 as row`, values: [] },
          };
          await inRolledBack(db, async (client) => {
            for (const command of ["select", "insert", "update", "delete"] as const) {
              const allowed = allows(grid[command], actor);
              const label = `${t} × ${MATRIX_ACTOR_LABELS[actor]} × ${command}: ${allowed ? "allowed" : "denied"}`;
              await runAs(client, db, full, actor, cases[command], async (outcome) => {
                const code = outcome.error?.code ?? null;
                if (command === "select") {
                  if (allowed) expect(outcome.rowCount, `${label} (${outcome.error?.message})`).toBe(ofA);
                  else expect(outcome.rowCount, label).toBe(0);
                } else if (allowed) {
                  const worked = code === null ? outcome.rowCount === 1 : PAST_ACCESS_CHECKS.includes(code);
                  expect(worked, `${label}: ${outcome.error?.message ?? `${outcome.rowCount} rows`}`).toBe(true);
                } else if (code === null) {
                  expect(outcome.rowCount, label).toBe(0);
                } else {
                  expect(REFUSALS, `${label}: ${outcome.error?.message}`).toContain(code);
                }
              });
            }
          });
        });
      }
    });
  }
});
