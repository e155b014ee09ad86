/**
 * What changes in production: no GraphiQL, no introspection, a required JWT secret; and the
 * HTTP surface a user can poke at answers with codes, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServerConfig } from "../src/config.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ NODE_ENV: "production" });
});
afterAll(async () => {
  await server.stop();
});

describe("production mode", () => {
  it("requires JWT_SECRET", () => {
    expect(() => readServerConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET/);
    expect(() => readServerConfig({ NODE_ENV: "production", JWT_SECRET: "short" })).toThrow(/32/);
  });

  it("requires SECRETS_ENCRYPTION_KEY", () => {
    const jwtSecret = "a-production-jwt-secret-of-enough-length-0123456789";
    expect(() => readServerConfig({ NODE_ENV: "production", JWT_SECRET: jwtSecret })).toThrow(/SECRETS_ENCRYPTION_KEY/);
  });

  it("refuses introspection", async () => {
    const result = await graphql(
      server.url,
      `
        {
          __schema {
            queryType {
              name
            }
          }
        }
      `,
    );
    expect(result.status).toBe(400);
    expect(result.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(result.data).toBeUndefined();
  });

  it("does not serve GraphiQL", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    const body = await response.text();
    expect(body).not.toMatch(/graphiql|ruru/i);
  });

  it("still answers ordinary queries", async () => {
    const result = await graphql(
      server.url,
      `
        {
          multiTenantEnabled
          currentUser {
            rowId
          }
        }
      `,
    );
    expect(result.status).toBe(200);
    expect(result.data).toEqual({ multiTenantEnabled: false, currentUser: null });
  });

  it("serves the page with security headers", async () => {
    const response = await fetch(`${server.url}/`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(await response.text()).toContain('<div id="root">');
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(response.headers.get("x-powered-by")).toBeNull();
  });
});

describe("requests a user can get wrong", () => {
  const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
    fetch(`${server.url}/graphql`, { method: "POST", headers: { accept: "application/json", ...headers }, body });

  it("answers malformed JSON with 400 and a code", async () => {
    const response = await post("{ not json");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      "BAD_REQUEST",
    );
  });

  it("answers an unknown field with 400 and a code", async () => {
    const result = await graphql(
      server.url,
      `
        {
          noSuchField
        }
      `,
    );
    expect([result.status, result.code]).toEqual([400, "GRAPHQL_VALIDATION_FAILED"]);
  });

  it("answers a malformed UUID with 400 and a code", async () => {
    const result = await graphql(
      server.url,
      `
        query Q($id: UUID!) {
          organization(rowId: $id) {
            rowId
          }
        }
      `,
      { id: "nope" },
    );
    expect([result.status, result.code]).toEqual([400, "GRAPHQL_VALIDATION_FAILED"]);
  });

  it("answers an oversized body with 413", async () => {
    const huge = JSON.stringify({ query: `{ currentUser { rowId } }`, variables: { pad: "x".repeat(2_000_000) } });
    const response = await post(huge);
    expect(response.status).toBe(413);
  });

  it("answers unknown API paths with a coded 404", async () => {
    const response = await fetch(`${server.url}/api/nothing-here`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      "NOT_FOUND",
    );
  });
});
