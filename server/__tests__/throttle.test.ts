/**
 * Sign-in throttling per client address: many emails from one address get blocked; another
 * address is not affected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, startTestServer, type TestServer } from "./helpers/testServer.ts";
import { graphql } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  // The test client is on loopback, which TRUST_PROXY trusts, so X-Forwarded-For names the address.
  server = await startTestServer({ LOGIN_MAX_FAILURES_PER_ADDRESS: "3", TRUST_PROXY: "loopback" });
});
afterAll(async () => {
  await server.stop();
});

const LOGIN = `mutation L($input: LoginInput!) { login(input: $input) { token } }`;
const loginFrom = (address: string, email: string) =>
  graphql(
    server.url,
    LOGIN,
    { input: { email, password: "wrong password" } },
    { headers: { "x-forwarded-for": address } },
  );

describe("per-address throttle", () => {
  it("blocks an address after its failures, across different emails, and only that address", async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await loginFrom("203.0.113.7", `spray-${attempt}@example.com`)).code).toBe("INVALID_CREDENTIALS");
    }
    const blocked = await loginFrom("203.0.113.7", "spray-new@example.com");
    expect([blocked.status, blocked.code]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
    const elsewhere = await loginFrom("198.51.100.1", "spray-new@example.com");
    expect(elsewhere.code).toBe("INVALID_CREDENTIALS");
  });

  it("counts failures in the database, shared by every web process", async () => {
    await login(server.url, "counted@example.com", "wrong password");
    const { rows } = await server.db.rootPool.query<{ key: string }>(
      "select key from app_private.rate_limits where key like '%counted@example.com'",
    );
    expect(rows.map((row) => row.key)).toEqual(["login-email:counted@example.com"]);
  });
});

describe("parallel guesses", () => {
  it("count before the password is checked, so a burst cannot slip past the limit", async () => {
    const throttled = await startTestServer({ LOGIN_MAX_FAILURES_PER_EMAIL: "3" });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          graphql(throttled.url, LOGIN, { input: { email: "burst@example.com", password: "guess" } }),
        ),
      );
      const codes = results.map((result) => result.code);
      expect(codes.filter((code) => code === "INVALID_CREDENTIALS")).toHaveLength(3);
      expect(codes.filter((code) => code === "TOO_MANY_ATTEMPTS")).toHaveLength(9);
    } finally {
      await throttled.stop();
    }
  });
});
