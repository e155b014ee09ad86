/**
 * Plan limits through GraphQL over HTTP: each limit at its boundary for each plan, the JSON of
 * the 402, downgrades, billing past due, single-tenant mode, and concurrent creators.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, register, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true", BILLING_GRACE_DAYS: "7" });
});
afterAll(async () => {
  await server.stop();
});

let slugCounter = 0;
const newOrganization = () => organizationWithMembers(server, `limits-${++slugCounter}`, "free");

const setPlan = (org: OrganizationMembers, plan: string) =>
  server.db.rootPool.query("update app_public.organizations set plan = $2 where id = $1", [org.organizationId, plan]);

const CREATE_SERVICE = `mutation S($name: String!) { createService(input: { service: { name: $name } }) { service { rowId } } }`;
const CREATE_INCIDENT = `mutation I($title: String!) { createIncident(input: { incident: { title: $title } }) { incident { rowId } } }`;
const INVITE = `mutation I($email: String!) { inviteMember(input: { email: $email }) { token } }`;

const createService = (org: OrganizationMembers, name: string) =>
  graphql(server.url, CREATE_SERVICE, { name }, { token: org.tokens.owner });
const createIncident = (org: OrganizationMembers, title: string) =>
  graphql(server.url, CREATE_INCIDENT, { title }, { token: org.tokens.editor });
const invite = (org: OrganizationMembers, email: string) =>
  graphql(server.url, INVITE, { email }, { token: org.tokens.owner });

/** Inserts incidents created at a given time without going through the limit (fixtures only). */
async function insertIncidents(org: OrganizationMembers, count: number, createdAt = new Date()) {
  const client = await server.db.rootPool.connect();
  try {
    await client.query("begin");
    await client.query("set local session_replication_role = replica");
    await client.query(
      `insert into app_public.incidents (organization_id, title, created_at, updated_at)
       select $1, 'Fixture ' || n, $3, $3 from generate_series(1, $2) n`,
      [org.organizationId, count, createdAt],
    );
    await client.query("commit");
  } finally {
    client.release();
  }
}

function expectLimit(result: Awaited<ReturnType<typeof graphql>>, details: Record<string, unknown>) {
  expect(result.status).toBe(402);
  expect(result.code).toBe("PLAN_LIMIT_EXCEEDED");
  expect(result.errors![0]!.extensions).toEqual({ code: "PLAN_LIMIT_EXCEEDED", ...details });
}

describe("services", () => {
  it("free allows 2, pro 20, enterprise unlimited", async () => {
    const org = await newOrganization();
    for (let n = 1; n <= 2; n++) expect((await createService(org, `S${n}`)).status).toBe(200);
    expectLimit(await createService(org, "S3"), { resource: "services", limit: 2, current: 2, plan: "free" });

    await setPlan(org, "pro");
    for (let n = 3; n <= 20; n++) expect((await createService(org, `S${n}`)).status).toBe(200);
    expectLimit(await createService(org, "S21"), { resource: "services", limit: 20, current: 20, plan: "pro" });

    await setPlan(org, "enterprise");
    for (let n = 21; n <= 25; n++) expect((await createService(org, `S${n}`)).status).toBe(200);
  });
});

describe("members", () => {
  it("counts pending invitations, and accepting stays within the limit", async () => {
    const org = await newOrganization(); // owner + admin + editor + viewer: already 4 members
    await setPlan(org, "pro");
    const { rows } = await server.db.rootPool.query(
      "select count(*)::int as n from app_public.organization_memberships where organization_id = $1",
      [org.organizationId],
    );
    expect(rows[0].n).toBe(4);
    await setPlan(org, "free");
    expectLimit(await invite(org, "one-too-many@example.com"), {
      resource: "members",
      limit: 3,
      current: 4,
      plan: "free",
    });

    await server.db.rootPool.query(
      "delete from app_public.organization_memberships where organization_id = $1 and user_id = any($2)",
      [org.organizationId, [org.users.viewer.userId, org.users.editor.userId]],
    );
    const invited = await invite(org, "newcomer@example.com");
    expect(invited.status).toBe(200);
    expectLimit(await invite(org, "second@example.com"), { resource: "members", limit: 3, current: 3, plan: "free" });
    const newcomer = await register(server.url, "Newcomer", { email: "newcomer@example.com" });
    const accepted = await graphql(
      server.url,
      `
        mutation A($token: String!) {
          acceptInvitation(input: { token: $token }) {
            membership {
              role
            }
          }
        }
      `,
      { token: invited.data!.inviteMember.token },
      { token: newcomer.token },
    );
    expect(accepted.status).toBe(200);
  });

  it("never refuses accepting an invitation made within the limit, even after a downgrade", async () => {
    const org = await newOrganization();
    await setPlan(org, "pro");
    const pending = await invite(org, "late@example.com");
    await setPlan(org, "free");
    // The invitation was counted when created; accepting it turns it into a member.
    const late = await register(server.url, "Late", {
      email: "late@example.com",
      invitationToken: pending.data!.inviteMember.token,
    });
    expect(late.organizationId).toBe(org.organizationId);
  });
});

describe("incidents per calendar month (UTC)", () => {
  it("free allows 50 this month; last month's do not count", async () => {
    const org = await newOrganization();
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1) - 3_600_000);
    await insertIncidents(org, 60, lastMonth);
    await insertIncidents(org, 49);
    expect((await createIncident(org, "Fiftieth")).status).toBe(200);
    expectLimit(await createIncident(org, "Fifty-first"), {
      resource: "incidents_per_month",
      limit: 50,
      current: 50,
      plan: "free",
    });
    await setPlan(org, "pro");
    await insertIncidents(org, 949);
    expect((await createIncident(org, "Thousandth")).status).toBe(200);
    expectLimit(await createIncident(org, "Too many"), {
      resource: "incidents_per_month",
      limit: 1000,
      current: 1000,
      plan: "pro",
    });
  });
});

describe("downgrading", () => {
  it("deletes nothing and blocks creation until usage is back under the limit", async () => {
    const org = await newOrganization();
    await setPlan(org, "pro");
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++) ids.push((await createService(org, `Keep ${n}`)).data!.createService.service.rowId);
    await setPlan(org, "free");

    const listed = await graphql(
      server.url,
      `
        {
          services {
            totalCount
          }
        }
      `,
      {},
      { token: org.tokens.viewer },
    );
    expect(listed.data!.services.totalCount).toBe(4);
    const edited = await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          updateService(input: { rowId: $id, patch: { description: "still editable" } }) {
            service {
              description
            }
          }
        }
      `,
      { id: ids[0] },
      { token: org.tokens.admin },
    );
    expect(edited.data!.updateService.service.description).toBe("still editable");
    expectLimit(await createService(org, "Blocked"), { resource: "services", limit: 2, current: 4, plan: "free" });

    for (const id of ids.slice(0, 3)) {
      await graphql(
        server.url,
        `
          mutation D($id: UUID!) {
            deleteService(input: { rowId: $id }) {
              clientMutationId
            }
          }
        `,
        { id },
        { token: org.tokens.owner },
      );
    }
    expect((await createService(org, "Allowed again")).status).toBe(200);
  });
});

describe("billing past due", () => {
  it("blocks incidents and services after the grace period, not before", async () => {
    const org = await newOrganization();
    const pastDue = (days: number) =>
      server.db.rootPool.query(
        "update app_public.organizations set billing_status = 'past_due', past_due_since = now() - make_interval(days => $2) where id = $1",
        [org.organizationId, days],
      );
    await pastDue(2);
    expect((await createIncident(org, "Within grace")).status).toBe(200);

    await pastDue(8);
    const blocked = await createIncident(org, "After grace");
    expect([blocked.status, blocked.code]).toEqual([402, "BILLING_PAST_DUE"]);
    expect(blocked.errors![0]!.extensions).toMatchObject({ graceDays: 7, plan: "free" });
    expect((await createService(org, "After grace")).code).toBe("BILLING_PAST_DUE");

    const usage = await graphql(
      server.url,
      `
        {
          currentUsage {
            billingStatus
            pastDueSince
            graceEndsAt
          }
        }
      `,
      {},
      { token: org.tokens.viewer },
    );
    expect(usage.data!.currentUsage.billingStatus).toBe("past_due");
    expect(new Date(usage.data!.currentUsage.graceEndsAt).getTime()).toBeLessThan(Date.now());
  });
});

describe("usage", () => {
  it("reports used and limit for each resource and the plan", async () => {
    const org = await newOrganization();
    await createService(org, "Metered");
    await createIncident(org, "Counted");
    await setPlan(org, "pro");
    await invite(org, "pending@example.com");
    const usage = await graphql(
      server.url,
      `
        {
          currentUsage {
            plan
            limitsEnforced
            servicesUsed
            servicesLimit
            membersUsed
            membersLimit
            incidentsThisMonth
            incidentsPerMonthLimit
          }
        }
      `,
      {},
      { token: org.tokens.viewer },
    );
    expect(usage.data!.currentUsage).toEqual({
      plan: "pro",
      limitsEnforced: true,
      servicesUsed: 1,
      servicesLimit: 20,
      membersUsed: 5,
      membersLimit: 25,
      incidentsThisMonth: 1,
      incidentsPerMonthLimit: 1000,
    });
    const anonymous = await graphql(
      server.url,
      `
        {
          currentUsage {
            plan
          }
        }
      `,
    );
    expect(anonymous.data!.currentUsage).toBeNull();
  });
});

describe("concurrent creators", () => {
  const CONCURRENCY = 16;

  it(`never let ${CONCURRENCY} parallel requests overshoot any limit`, async () => {
    const results: Record<string, { succeeded: number; refused: number; other: number }> = {};
    const tally = (name: string, statuses: { status: number; code?: string }[]) => {
      results[name] = {
        succeeded: statuses.filter((r) => r.status === 200).length,
        refused: statuses.filter((r) => r.code === "PLAN_LIMIT_EXCEEDED").length,
        other: statuses.filter((r) => r.status !== 200 && r.code !== "PLAN_LIMIT_EXCEEDED").length,
      };
    };
    const orgs = await Promise.all([newOrganization(), newOrganization(), newOrganization()]);
    const [services, members, incidents] = orgs as [OrganizationMembers, OrganizationMembers, OrganizationMembers];

    tally(
      "services (free, limit 2)",
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => createService(services, `Race ${n}`))),
    );
    await server.db.rootPool.query(
      "delete from app_public.organization_memberships where organization_id = $1 and role <> 'owner'",
      [members.organizationId],
    );
    tally(
      "members (free, limit 3)",
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => invite(members, `race-${n}@example.com`))),
    );
    await insertIncidents(incidents, 45);
    tally(
      "incidents (free, 45 of 50 used)",
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, n) => createIncident(incidents, `Race ${n}`))),
    );

    const counts = await server.db.rootPool.query<{ services: number; members: number; incidents: number }>(
      `select
         (select count(*) from app_public.services where organization_id = $1)::int as services,
         (select count(*) from app_public.organization_memberships where organization_id = $2)::int
           + (select count(*) from app_public.organization_invitations where organization_id = $2 and accepted_at is null and revoked_at is null)::int as members,
         (select count(*) from app_public.incidents where organization_id = $3)::int as incidents`,
      [services.organizationId, members.organizationId, incidents.organizationId],
    );
    console.log(`Concurrent creators (${CONCURRENCY} each):`, JSON.stringify(results));
    expect(counts.rows[0]).toEqual({ services: 2, members: 3, incidents: 50 });
    expect(results["services (free, limit 2)"]).toEqual({ succeeded: 2, refused: 14, other: 0 });
    expect(results["members (free, limit 3)"]).toEqual({ succeeded: 2, refused: 14, other: 0 });
    expect(results["incidents (free, 45 of 50 used)"]).toEqual({ succeeded: 5, refused: 11, other: 0 });
  });
});

describe("single-tenant mode", () => {
  it("enforces no limits", async () => {
    const single = await startTestServer({ MULTI_TENANT_ENABLED: "false" });
    try {
      const owner = await register(single.url, "Solo owner");
      for (let n = 1; n <= 4; n++) {
        const created = await graphql(single.url, CREATE_SERVICE, { name: `Solo ${n}` }, { token: owner.token });
        expect(created.status).toBe(200);
      }
      for (let n = 1; n <= 4; n++) {
        const invited = await graphql(single.url, INVITE, { email: `solo-${n}@example.com` }, { token: owner.token });
        expect(invited.status).toBe(200);
      }
      const usage = await graphql(
        single.url,
        `
          {
            currentUsage {
              limitsEnforced
              servicesUsed
            }
          }
        `,
        {},
        { token: owner.token },
      );
      expect(usage.data!.currentUsage).toEqual({ limitsEnforced: false, servicesUsed: 4 });
    } finally {
      await single.stop();
    }
  });
});
