/**
 * What changes in production: no GraphiQL, no introspection, a required JWT secret; and the
 * HTTP surface a user can poke at answers with codes, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServerConfig } from "../src/config.ts";
import { STRIPE_WEBHOOK_PATH } from "../src/middleware/installBilling.ts";
import { graphql, PASSWORD, register, startTestServer, uniqueEmail, type TestServer } from "./helpers/testServer.ts";

const DASHBOARD_ORIGIN = "https://app.example.com";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    NODE_ENV: "production",
    CORS_ORIGINS: `${DASHBOARD_ORIGIN}, https://admin.example.com/`,
    ACCOUNTS_PER_ADDRESS_PER_HOUR: "3",
    SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR: "2",
    STATEMENT_TIMEOUT_MS: "1000",
  });
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

const codeOf = async (response: Response) =>
  ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code;

describe("GraphQL limits", () => {
  let ownerToken: string;
  beforeAll(async () => {
    ownerToken = (await register(server.url, "Limits Owner", { email: uniqueEmail("limits") })).token;
  });
  const nested = (levels: number) => `${"{ query ".repeat(levels)}{ currentUser { rowId } }${" }".repeat(levels)}`;

  it("refuses operations nested deeper than GRAPHQL_MAX_DEPTH (12)", async () => {
    // `query` fields around `currentUser { rowId }` (2 deep): 10 of them make 12, 11 make 13.
    const atLimit = await graphql(server.url, nested(10));
    expect([atLimit.status, atLimit.errors]).toEqual([200, undefined]);
    const tooDeep = await graphql(server.url, nested(11));
    expect([tooDeep.status, tooDeep.code]).toEqual([400, "QUERY_TOO_COMPLEX"]);
    expect(tooDeep.errors![0]!.message).toMatch(/13 fields deep; at most 12/);
    expect(tooDeep.data).toBeUndefined();
  });

  it("counts depth through fragments", async () => {
    const result = await graphql(
      server.url,
      `fragment Deep on Query ${nested(9)}
       { query { query { ...Deep } } }`,
    );
    expect([result.status, result.code]).toEqual([400, "QUERY_TOO_COMPLEX"]);
  });

  it("refuses more than GRAPHQL_MAX_ALIASES (30) aliases, a fragment's counted each time it is used", async () => {
    const aliases = (count: number) =>
      Array.from({ length: count }, (_, i) => `a${i}: currentUser { rowId }`).join("\n");
    expect((await graphql(server.url, `{ ${aliases(30)} }`)).status).toBe(200);
    const many = await graphql(server.url, `{ ${aliases(31)} }`);
    expect([many.status, many.code]).toEqual([400, "QUERY_TOO_COMPLEX"]);
    // 13 aliases written, 33 run: the fragment's ten, three times, and the three around it.
    const multiplied = await graphql(
      server.url,
      `fragment Ten on Query { ${aliases(10)} }
       { q1: query { ...Ten } q2: query { ...Ten } q3: query { ...Ten } }`,
    );
    expect([multiplied.status, multiplied.code]).toEqual([400, "QUERY_TOO_COMPLEX"]);
    expect(multiplied.errors![0]!.message).toMatch(/33 aliases/);
  });

  it("caps first and last at GRAPHQL_MAX_PAGE_SIZE (100), as literals and as variables", async () => {
    const literal = (size: number) => `{ incidents(first: ${size}) { totalCount } }`;
    expect((await graphql(server.url, literal(100), {}, { token: ownerToken })).status).toBe(200);
    const big = await graphql(server.url, literal(101));
    expect([big.status, big.code]).toEqual([400, "PAGE_SIZE_TOO_LARGE"]);
    expect(big.errors![0]!.extensions!.maxPageSize).toBe(100);

    const byVariable = `query Q($n: Int) { incidents(last: $n) { totalCount } }`;
    expect((await graphql(server.url, byVariable, { n: 100 }, { token: ownerToken })).status).toBe(200);
    const viaVariable = await graphql(server.url, byVariable, { n: 5000 });
    expect([viaVariable.status, viaVariable.code]).toEqual([400, "PAGE_SIZE_TOO_LARGE"]);
    const viaDefault = await graphql(
      server.url,
      `
        query Q($n: Int = 1000) {
          incidents(first: $n) {
            totalCount
          }
        }
      `,
    );
    expect([viaDefault.status, viaDefault.code]).toEqual([400, "PAGE_SIZE_TOO_LARGE"]);
  });

  it("cuts SQL at STATEMENT_TIMEOUT_MS with 503 TIMEOUT", async () => {
    const blocker = await server.db.rootPool.connect();
    try {
      await blocker.query("begin");
      await blocker.query("lock table app_public.incidents in access exclusive mode");
      const started = Date.now();
      const result = await graphql(
        server.url,
        `
          {
            incidents(first: 1) {
              totalCount
            }
          }
        `,
        {},
        { token: ownerToken },
      );
      expect([result.status, result.code]).toEqual([503, "TIMEOUT"]);
      expect(result.headers.get("retry-after")).toBe("5");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await blocker.query("rollback");
      blocker.release();
    }
  });
});

describe("security headers in production", () => {
  it("sets them on pages and on the API", async () => {
    for (const response of [
      await fetch(`${server.url}/`, { headers: { accept: "text/html" } }),
      await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ multiTenantEnabled }" }),
      }),
    ]) {
      const headers = response.headers;
      expect(headers.get("strict-transport-security")).toMatch(/max-age=\d{7,}/);
      expect(headers.get("x-content-type-options")).toBe("nosniff");
      expect(headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(headers.get("referrer-policy")).toBe("no-referrer");
      expect(headers.get("cross-origin-opener-policy")).toBe("same-origin");
      const csp = headers.get("content-security-policy") ?? "";
      for (const directive of ["default-src 'self'", "frame-ancestors 'self'", "object-src 'none'"]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(headers.get("x-powered-by")).toBeNull();
    }
  });
});

describe("CORS", () => {
  const preflight = (path: string, origin: string) =>
    fetch(`${server.url}${path}`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    });
  const postQuery = (origin: string) =>
    fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { origin, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: "{ multiTenantEnabled }" }),
    });

  it("answers listed origins on /graphql and /api/* with credentials", async () => {
    for (const origin of [DASHBOARD_ORIGIN, "https://admin.example.com"]) {
      const allowed = await preflight("/graphql", origin);
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin")).toBe(origin);
      expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
      expect(allowed.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
      expect(allowed.headers.get("vary")).toMatch(/Origin/);
    }
    const answer = await postQuery(DASHBOARD_ORIGIN);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe(DASHBOARD_ORIGIN);
    expect(answer.headers.get("access-control-allow-credentials")).toBe("true");
    const api = await fetch(`${server.url}/api/attachments/00000000-0000-0000-0000-000000000000`, {
      headers: { origin: DASHBOARD_ORIGIN },
    });
    expect(api.headers.get("access-control-allow-origin")).toBe(DASHBOARD_ORIGIN);
  });

  it("gives any other origin no CORS headers and refuses its preflights", async () => {
    for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null"]) {
      const refused = await preflight("/graphql", origin);
      expect(refused.status, origin).toBe(403);
      expect(await codeOf(refused)).toBe("ORIGIN_NOT_ALLOWED");
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      const answer = await postQuery(origin);
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
      expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
    }
    expect((await preflight("/api/subscriptions", "https://evil.example")).status).toBe(403);
  });

  it("keeps `*` without credentials on the public status endpoints", async () => {
    for (const path of ["/api/status/stream", "/api/v2/summary.json"]) {
      const answer = await preflight(path, "https://evil.example");
      expect(answer.headers.get("access-control-allow-origin"), path).toBe("*");
      expect(answer.headers.get("access-control-allow-credentials"), path).toBeNull();
    }
  });
});

describe("rate limits and body limits", () => {
  const REGISTER = `mutation R($input: RegisterInput!) { register(input: $input) { userId } }`;
  const registerFrom = (address: string) =>
    graphql(
      server.url,
      REGISTER,
      { input: { email: uniqueEmail("limited"), name: "Limited", password: PASSWORD } },
      { headers: { "x-forwarded-for": address } },
    );

  it("limits account creation per client address (ACCOUNTS_PER_ADDRESS_PER_HOUR)", async () => {
    for (let i = 0; i < 3; i++) expect((await registerFrom("198.51.100.7")).errors).toBeUndefined();
    const refused = await registerFrom("198.51.100.7");
    expect([refused.status, refused.code]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
    expect(refused.data?.register ?? null).toBeNull();
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3000);
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBe(retryAfter);
    // Another address is not held back.
    expect((await registerFrom("198.51.100.8")).errors).toBeUndefined();
  });

  it("limits status-page sign-ups per client address", async () => {
    const subscribe = (email: string) =>
      fetch(`${server.url}/api/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", "x-forwarded-for": "203.0.113.9" },
        body: JSON.stringify({ email }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await subscribe(`reader${i}@example.com`);
      statuses.push(response.status);
      if (i === 2) {
        expect(await codeOf(response)).toBe("RATE_LIMITED");
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    }
    expect(statuses[2]).toBe(429);
  });

  it("answers oversized REST bodies with 413 before doing anything", async () => {
    const json = await fetch(`${server.url}/api/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ email: "a@example.com", pad: "x".repeat(20_000) }),
    });
    expect([json.status, await codeOf(json)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    const form = await fetch(`${server.url}/api/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: `email=a%40example.com&pad=${"x".repeat(5_000)}`,
    });
    expect(form.status).toBe(413);
    const stripe = await fetch(`${server.url}${STRIPE_WEBHOOK_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(1_100_000),
    });
    expect(stripe.status).toBe(413);
  });
});
