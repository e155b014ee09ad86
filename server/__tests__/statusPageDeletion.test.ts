/**
 * A deleted organization's status page leaves every web process's memory at once, so its
 * slug cannot keep showing the old page (nor, once reused, another tenant's).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    MULTI_TENANT_ENABLED: "true",
    WORKER_ENABLED: "true",
    ORGANIZATION_DELETION_GRACE_DAYS: "0",
  });
});
afterAll(async () => {
  await server.stop();
});

async function statusOf(url: string, deadlineMs = 15_000, wanted: number): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  let status = (await fetch(url)).status;
  while (status !== wanted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await fetch(url)).status;
  }
  return status;
}

describe("deleting an organization", () => {
  it("takes its status page down at once", async () => {
    const org = await organizationWithMembers(server, "short-lived");
    await graphql(
      server.url,
      `
        mutation {
          createService(input: { service: { name: "API" } }) {
            clientMutationId
          }
        }
      `,
      {},
      {
        token: org.tokens.owner,
      },
    );
    const summary = `${server.url}/status/short-lived/api/v2/summary.json`;
    expect(await statusOf(summary, 15_000, 200)).toBe(200);
    // Served from memory now; then the organization goes.
    expect((await fetch(summary)).status).toBe(200);
    // With no grace period the worker deletes it as soon as an owner asks.
    const deleted = await graphql(
      server.url,
      `
        mutation {
          requestOrganizationDeletion(input: { confirmSlug: "short-lived" }) {
            clientMutationId
          }
        }
      `,
      {},
      { token: org.tokens.owner },
    );
    expect(deleted.errors).toBeUndefined();
    expect(await statusOf(summary, 5_000, 404)).toBe(404);
  });
});
