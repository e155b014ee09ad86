/**
 * What anyone may read without signing in, besides the Statuspage files: the plans and their
 * limits (as the database enforces them) and a page's 90-day uptime file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true", WORKER_ENABLED: "true" });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe("plans", () => {
  it("lists every plan with the limits the database enforces, to anonymous visitors", async () => {
    const result = await graphql(
      server.url,
      "{ plans { nodes { plan servicesLimit membersLimit incidentsPerMonthLimit } } }",
    );
    expect(result.errors).toBeUndefined();
    const { rows } = await server.db.rootPool.query<Record<string, unknown>>(
      `select p::text as plan, app_hidden.plan_limit(p, 'services') as "servicesLimit",
              app_hidden.plan_limit(p, 'members') as "membersLimit",
              app_hidden.plan_limit(p, 'incidents_per_month') as "incidentsPerMonthLimit"
       from unnest(enum_range(null::app_public.plan)) p`,
    );
    expect(result.data!.plans.nodes).toEqual(rows);
    expect(rows.map((row) => row.plan)).toEqual(["free", "pro", "enterprise"]);
    expect(rows[0]).toMatchObject({ servicesLimit: 2 });
    expect(rows[2]).toMatchObject({ servicesLimit: null });
  });
});

describe("uptime.json", () => {
  it("serves 90 days per visible service", async () => {
    const members = await organizationWithMembers(server, "uptime-file");
    const created = await graphql(
      server.url,
      `
        mutation {
          createService(input: { service: { name: "API" } }) {
            service {
              rowId
            }
          }
        }
      `,
      {},
      { token: members.tokens.admin },
    );
    expect(created.errors).toBeUndefined();
    const serviceId = created.data!.createService.service.rowId as string;
    // Two days of history, then a change so the page is rebuilt with them.
    await server.db.rootPool.query(
      "update app_public.service_status_intervals set started_at = now() - interval '2 days' where service_id = $1",
      [serviceId],
    );
    await graphql(
      server.url,
      `
        mutation U($id: UUID!) {
          updateService(input: { rowId: $id, patch: { description: "Public API" } }) {
            clientMutationId
          }
        }
      `,
      { id: serviceId },
      { token: members.tokens.admin },
    );
    const url = `${server.url}/status/${members.slug}/api/v2/uptime.json`;
    const deadline = Date.now() + 15_000;
    let body: { uptime?: { days: number; components: { name: string; days: unknown[] }[] } } = {};
    while (Date.now() < deadline) {
      const response = await fetch(url);
      if (response.status === 200) {
        body = (await response.json()) as typeof body;
        if (body.uptime?.components.some((component) => component.name === "API" && component.days?.length)) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(body.uptime?.days).toBe(90);
    const api = body.uptime!.components.find((component) => component.name === "API")!;
    expect(api.days.length).toBeGreaterThan(0);
    expect(api.days.length).toBeLessThanOrEqual(90);
  });
});
