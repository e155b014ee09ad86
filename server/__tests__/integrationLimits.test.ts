/**
 * Integrations and subscribers cost every tenant's shared worker and mail: the plans limit
 * them like services and members, and subscriber imports need a person.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let free: OrganizationMembers;
beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  free = await organizationWithMembers(server, "integration-limits", "free");
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const CREATE_ENDPOINT = `mutation C($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`;
const CREATE_CHAT = `mutation C($input: CreateChatIntegrationInput!) {
  createChatIntegration(input: $input) { chatIntegration { rowId } } }`;
const CREATE_SOURCE = `mutation C($input: CreateAlertSourceInput!) { createAlertSource(input: $input) { secret } }`;

describe("the integrations limit", () => {
  it("counts webhook endpoints, chat integrations and alert sources together, and answers 402 past it", async () => {
    const token = free.tokens.admin;
    const endpoint = await graphql(
      server.url,
      CREATE_ENDPOINT,
      { input: { url: "https://hooks.example.com/a" } },
      { token },
    );
    expect(endpoint.errors).toBeUndefined();
    const chat = await graphql(
      server.url,
      CREATE_CHAT,
      { input: { kind: "slack", name: "#ops", url: "https://hooks.slack.com/services/T0/B0/x" } },
      { token },
    );
    expect(chat.errors).toBeUndefined();
    const source = await graphql(server.url, CREATE_SOURCE, { input: { name: "Prometheus" } }, { token });
    expect(source.errors).toBeUndefined();

    const fourth = await graphql(
      server.url,
      CREATE_ENDPOINT,
      { input: { url: "https://hooks.example.com/b" } },
      { token },
    );
    expect(fourth.status).toBe(402);
    expect(fourth.errors![0]!.extensions).toMatchObject({
      code: "PLAN_LIMIT_EXCEEDED",
      resource: "integrations",
      limit: 3,
      current: 3,
      plan: "free",
    });
    const { rows } = await server.db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from app_public.webhook_endpoints where organization_id = $1",
      [free.organizationId],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it("is listed with the plans", async () => {
    const plans = await graphql(server.url, "{ plans { nodes { plan integrationsLimit subscribersLimit } } }");
    expect(plans.data!.plans.nodes).toEqual([
      { plan: "free", integrationsLimit: 3, subscribersLimit: 500 },
      { plan: "pro", integrationsLimit: 50, subscribersLimit: 25000 },
      { plan: "enterprise", integrationsLimit: null, subscribersLimit: null },
    ]);
  });
});

describe("importing subscribers", () => {
  it("needs a person, not an API key", async () => {
    const key = await graphql(
      server.url,
      `
        mutation {
          createApiKey(input: { name: "importer", role: admin }) {
            token
          }
        }
      `,
      {},
      { token: free.tokens.owner },
    );
    const imported = await graphql(
      server.url,
      `
        mutation {
          importSubscribers(input: { emails: ["someone@example.com"], skipConfirmation: true }) {
            subscribers {
              rowId
            }
          }
        }
      `,
      {},
      { token: key.data!.createApiKey.token as string },
    );
    expect(imported.code).toBe("API_KEY_NOT_ALLOWED");
  });

  it("stops at the plan's subscriber limit, all or nothing", async () => {
    const emails = Array.from({ length: 501 }, (_, index) => `reader-${index}@example.com`);
    const imported = await graphql(
      server.url,
      `
        mutation I($emails: [String]!) {
          importSubscribers(input: { emails: $emails, skipConfirmation: true }) {
            subscribers {
              rowId
            }
          }
        }
      `,
      { emails },
      { token: free.tokens.admin },
    );
    expect(imported.code).toBe("PLAN_LIMIT_EXCEEDED");
    expect(imported.errors![0]!.extensions).toMatchObject({ resource: "subscribers", limit: 500 });
    const { rows } = await server.db.rootPool.query<{ n: number }>(
      "select count(*)::int as n from app_public.subscribers where organization_id = $1",
      [free.organizationId],
    );
    expect(rows[0]!.n).toBe(0);
  });
});
