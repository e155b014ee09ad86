/**
 * The GraphQL schema exposes what the grants say, and nothing of the helper schemas; the
 * development conveniences are there in development.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ NODE_ENV: "development" });
});
afterAll(async () => {
  await server.stop();
});

const camelCase = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * Root fields that share a name with a helper on purpose: the AuthPlugin's and
 * ApiKeysPlugin's mutations, and
 * app_public.multi_tenant_enabled(), the public face of app_hidden.multi_tenant_enabled().
 */
const DELIBERATE_ROOT_FIELDS = new Set([
  "register",
  "login",
  "logout",
  "switchOrganization",
  "inviteMember",
  "createApiKey",
  "multiTenantEnabled",
]);

describe("the GraphQL schema", () => {
  let rootFields: string[];
  beforeAll(async () => {
    const result = await graphql(
      server.url,
      `
        {
          __schema {
            queryType {
              fields {
                name
              }
            }
            mutationType {
              fields {
                name
              }
            }
          }
        }
      `,
    );
    const schema = result.data!.__schema;
    rootFields = [...schema.queryType.fields, ...schema.mutationType.fields].map(
      (field: { name: string }) => field.name,
    );
  });

  it("exposes no function of app_hidden or app_private", async () => {
    const { rows } = await server.db.rootPool.query<{ proname: string }>(
      `select distinct p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ('app_hidden', 'app_private')`,
    );
    expect(rows.length).toBeGreaterThan(10);
    const leaked = rows
      .map((row) => camelCase(row.proname))
      .filter((name) => rootFields.includes(name) && !DELIBERATE_ROOT_FIELDS.has(name));
    expect(leaked).toEqual([]);
  });

  it("has no create mutations for tables the visitor cannot insert into", () => {
    for (const field of [
      "createUser",
      "createOrganization",
      "createOrganizationMembership",
      "createOrganizationInvitation",
    ]) {
      if (field === "createOrganization") continue; // the app_public.create_organization function
      expect(rootFields).not.toContain(field);
    }
    expect(rootFields).not.toContain("updateOrganizationMembership");
    expect(rootFields).not.toContain("deleteOrganizationMembership");
  });

  it("offers the membership mutations the design names", () => {
    for (const field of [
      "register",
      "login",
      "logout",
      "switchOrganization",
      "createOrganization",
      "inviteMember",
      "acceptInvitation",
      "revokeInvitation",
      "changeMemberRole",
      "removeMember",
      "changePassword",
      "currentUser",
      "currentOrganization",
      "currentMembership",
    ]) {
      expect(rootFields).toContain(field);
    }
  });

  it("serves GraphiQL in development", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/ruru|graphiql/i);
  });
});
