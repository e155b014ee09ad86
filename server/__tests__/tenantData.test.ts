/**
 * Owners take their organization's data with them (JSON export) and delete the organization
 * (a confirmed request, a grace period, then the worker deletes every row). Both are checked
 * against the catalog: every tenant table, including ones added later.
 */
import { quickAddJob, runOnce } from "graphile-worker";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTaskList } from "../src/worker/index.ts";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";
import { testWorkerContext } from "./helpers/workerContext.ts";

let server: TestServer;
let a: OrganizationMembers;
let b: OrganizationMembers;
let ownerPool: pg.Pool;

async function fill(members: OrganizationMembers, label: string): Promise<void> {
  const service = await graphql(
    server.url,
    `
      mutation S($name: String!) {
        createService(input: { service: { name: $name } }) {
          service {
            rowId
          }
        }
      }
    `,
    { name: `${label} API` },
    { token: members.tokens.admin },
  );
  expect(service.errors).toBeUndefined();
  const serviceId = service.data!.createService.service.rowId as string;
  const incident = await graphql(
    server.url,
    `
      mutation I($title: String!) {
        createIncident(input: { incident: { title: $title } }) {
          incident {
            rowId
          }
        }
      }
    `,
    { title: `${label} outage` },
    { token: members.tokens.editor },
  );
  expect(incident.errors).toBeUndefined();
  const posted = await graphql(
    server.url,
    `
      mutation U($incidentId: UUID!, $serviceId: UUID!) {
        postIncidentUpdate(
          input: {
            incidentId: $incidentId
            status: identified
            body: "Found it"
            serviceStatuses: [{ serviceId: $serviceId, status: partial_outage }]
          }
        ) {
          clientMutationId
        }
      }
    `,
    { incidentId: incident.data!.createIncident.incident.rowId, serviceId },
    { token: members.tokens.editor },
  );
  expect(posted.errors).toBeUndefined();
}

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true", ORGANIZATION_DELETION_GRACE_DAYS: "0" });
  a = await organizationWithMembers(server, "data-a");
  b = await organizationWithMembers(server, "data-b");
  await fill(a, "A");
  await fill(b, "B");
  ownerPool = new pg.Pool({ connectionString: server.db.config.ownerUrl });
  ownerPool.on("error", () => undefined);
}, 60_000);
afterAll(async () => {
  await ownerPool?.end();
  await server?.stop();
});

/** Every table of ours with an organization_id column, from the catalog. */
async function tenantTables(): Promise<string[]> {
  const { rows } = await server.db.rootPool.query<{ name: string }>(
    `select c.oid::regclass::text as name
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('app_public', 'app_private', 'app_hidden') and c.relkind = 'r'
       and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'organization_id'
                   and not a.attisdropped)
     order by 1`,
  );
  return rows.map((row) => row.name);
}

async function rowsOf(organizationId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await tenantTables()) {
    const { rows } = await server.db.rootPool.query<{ n: number }>(
      `select count(*)::int as n from ${table} where organization_id = $1`,
      [organizationId],
    );
    if (rows[0]!.n > 0) counts[table] = rows[0]!.n;
  }
  return counts;
}

const exportOf = (token: string) =>
  fetch(`${server.url}/api/organization/export`, { headers: { authorization: `Bearer ${token}` } });

describe("export", () => {
  it("gives the owner every tenant table's rows of the organization, and nothing of another", async () => {
    const response = await exportOf(a.tokens.owner);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toContain(`${a.slug}-export.json`);
    const text = await response.text();
    const document = JSON.parse(text) as {
      format: string;
      organization: { id: string };
      tables: Record<string, { organization_id: string }[]>;
    };
    expect(document.format).toBe("incidentpulse-export/1");
    expect(document.organization.id).toBe(a.organizationId);

    // Every app_public table holding rows of A is in the export with all of them.
    const stored = await rowsOf(a.organizationId);
    for (const [table, count] of Object.entries(stored)) {
      if (!table.startsWith("app_public.")) continue;
      expect(document.tables[table.slice("app_public.".length)], table).toHaveLength(count);
    }
    for (const rows of Object.values(document.tables)) {
      for (const row of rows) expect(row.organization_id).toBe(a.organizationId);
    }
    expect(text).not.toContain(b.organizationId);
    expect(document.tables.incidents!.length).toBeGreaterThan(0);
    expect(document.tables.audit_log!.length).toBeGreaterThan(0);
  });

  it("is for owners only", async () => {
    const admin = await exportOf(a.tokens.admin);
    expect(admin.status).toBe(403);
    expect(await admin.json()).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN" } }] });
    const anonymous = await fetch(`${server.url}/api/organization/export`);
    expect(anonymous.status).toBe(401);
  });
});

const REQUEST = `mutation R($slug: String) { requestOrganizationDeletion(input: { confirmSlug: $slug }) {
  organization { deletionScheduledAt } } }`;
const CANCEL = `mutation { cancelOrganizationDeletion(input: {}) { organization { deletionScheduledAt } } }`;

describe("deletion", () => {
  it("needs the owner and the slug typed to confirm, and can be canceled", async () => {
    const byAdmin = await graphql(server.url, REQUEST, { slug: b.slug }, { token: b.tokens.admin });
    expect(byAdmin.code).toBe("FORBIDDEN");
    const wrongSlug = await graphql(server.url, REQUEST, { slug: "not-it" }, { token: b.tokens.owner });
    expect(wrongSlug.code).toBe("CONFIRMATION_MISMATCH");

    const requested = await graphql(server.url, REQUEST, { slug: b.slug }, { token: b.tokens.owner });
    expect(requested.errors).toBeUndefined();
    expect(requested.data!.requestOrganizationDeletion.organization.deletionScheduledAt).not.toBeNull();
    const canceled = await graphql(server.url, CANCEL, {}, { token: b.tokens.owner });
    expect(canceled.data!.cancelOrganizationDeletion.organization.deletionScheduledAt).toBeNull();

    // A canceled deletion's job, had it run anyway, deletes nothing.
    await quickAddJob({ pgPool: ownerPool }, "organizations__delete", { organizationId: b.organizationId });
    await runOnce({ pgPool: ownerPool, taskList: makeTaskList(testWorkerContext()), noHandleSignals: true });
    expect(Object.keys(await rowsOf(b.organizationId)).length).toBeGreaterThan(0);
  });

  it("deletes every row of the organization once due, and nothing of another", async () => {
    const before = await rowsOf(b.organizationId);
    expect(before["app_public.incidents"]).toBeGreaterThan(0);
    const requested = await graphql(server.url, REQUEST, { slug: a.slug }, { token: a.tokens.owner });
    expect(requested.errors).toBeUndefined();
    // The grace period is 0 days here: the job is due at once.
    await runOnce({ pgPool: ownerPool, taskList: makeTaskList(testWorkerContext()), noHandleSignals: true });

    expect(await rowsOf(a.organizationId)).toEqual({});
    const { rowCount } = await server.db.rootPool.query("select 1 from app_public.organizations where id = $1", [
      a.organizationId,
    ]);
    expect(rowCount).toBe(0);
    expect(await rowsOf(b.organizationId)).toEqual(before);
  });
});
