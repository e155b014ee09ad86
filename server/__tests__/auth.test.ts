/**
 * Sign-in, tokens and sessions over HTTP in single-tenant mode (the default).
 */
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  graphql,
  login,
  PASSWORD,
  register,
  startTestServer,
  TEST_JWT_SECRET,
  type TestServer,
} from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LOGIN_MAX_FAILURES_PER_EMAIL: "3" });
});
afterAll(async () => {
  await server.stop();
});

const ME = `query Me {
  currentUser { rowId email name }
  currentOrganization { slug organizationMemberships { totalCount nodes { role user { name } } } }
  currentMembership { role }
}`;
const INVITE = `mutation Invite($email: String!) { inviteMember(input: { email: $email }) { token invitation { email } } }`;

describe("single-tenant registration", () => {
  it("makes the first user owner of the default organization and later ones viewers", async () => {
    const first = await register(server.url, "First");
    const second = await register(server.url, "Second");

    expect(first.membershipRole).toBe("owner");
    expect(second.membershipRole).toBe("viewer");
    expect(second.organizationId).toBe(first.organizationId);

    const me = await graphql(server.url, ME, {}, { token: second.token });
    expect(me.status).toBe(200);
    expect(me.data?.currentOrganization.slug).toBe("default");
    // A connection field: returns null on Node 20 without the Promise.withResolvers polyfill.
    expect(me.data?.currentOrganization.organizationMemberships.totalCount).toBeGreaterThanOrEqual(2);
    expect(
      me.data?.currentOrganization.organizationMemberships.nodes.map((n: { user: { name: string } }) => n.user.name),
    ).toEqual(expect.arrayContaining(["First", "Second"]));
  });

  it("refuses creating and switching organizations", async () => {
    const user = await register(server.url, "Solo");
    const created = await graphql(
      server.url,
      `
        mutation {
          createOrganization(input: { name: "Other", slug: "other" }) {
            organization {
              rowId
            }
          }
        }
      `,
      {},
      { token: user.token },
    );
    expect([created.status, created.code]).toEqual([403, "MULTI_TENANT_DISABLED"]);
    const switched = await graphql(
      server.url,
      `
        mutation S($id: UUID!) {
          switchOrganization(input: { organizationId: $id }) {
            token
          }
        }
      `,
      { id: user.organizationId },
      { token: user.token },
    );
    expect([switched.status, switched.code]).toEqual([403, "MULTI_TENANT_DISABLED"]);
  });

  it("answers a taken email with a coded conflict", async () => {
    const user = await register(server.url, "Taken");
    const again = await graphql(
      server.url,
      `
        mutation R($input: RegisterInput!) {
          register(input: $input) {
            token
          }
        }
      `,
      { input: { email: user.email.toUpperCase(), name: "Again", password: PASSWORD } },
    );
    expect([again.status, again.code]).toEqual([409, "EMAIL_TAKEN"]);
  });

  it("refuses weak passwords and malformed emails without creating anything", async () => {
    const weak = await graphql(
      server.url,
      `
        mutation R($input: RegisterInput!) {
          register(input: $input) {
            token
          }
        }
      `,
      { input: { email: "weak@example.com", name: "Weak", password: "short" } },
    );
    expect([weak.status, weak.code]).toEqual([422, "WEAK_PASSWORD"]);
    const malformed = await graphql(
      server.url,
      `
        mutation R($input: RegisterInput!) {
          register(input: $input) {
            token
          }
        }
      `,
      { input: { email: "not-an-email", name: "Bad", password: PASSWORD } },
    );
    expect([malformed.status, malformed.code]).toEqual([422, "VALIDATION_FAILED"]);
    const { rows } = await server.db.rootPool.query(
      "select count(*)::int as n from app_public.users where email in ('weak@example.com', 'not-an-email')",
    );
    expect(rows[0].n).toBe(0);
  });
});

describe("login", () => {
  it("signs in with the right password and returns a working token", async () => {
    const user = await register(server.url, "Login");
    const result = await login(server.url, user.email);
    expect(result.status).toBe(200);
    const me = await graphql(server.url, ME, {}, { token: result.data!.login.token });
    expect(me.data?.currentUser.email).toBe(user.email);
  });

  it("gives a wrong password and an unknown email the same answer", async () => {
    const user = await register(server.url, "Same");
    const wrongPassword = await login(server.url, user.email, "not the password");
    const unknownEmail = await login(server.url, "nobody-here@example.com", "not the password");
    for (const result of [wrongPassword, unknownEmail]) {
      expect(result.status).toBe(401);
      expect(result.code).toBe("INVALID_CREDENTIALS");
    }
    expect(wrongPassword.errors![0]!.message).toBe(unknownEmail.errors![0]!.message);
  });

  it("throttles repeated failures for an email, whether or not it has an account", async () => {
    const user = await register(server.url, "Throttled");
    for (const email of [user.email, "ghost@example.com"]) {
      for (let attempt = 0; attempt < 3; attempt++) {
        expect((await login(server.url, email, "wrong password")).code).toBe("INVALID_CREDENTIALS");
      }
      const blocked = await login(server.url, email, email === user.email ? PASSWORD : "wrong password");
      expect([blocked.status, blocked.code]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
      expect(blocked.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    }
  });
});

describe("tokens", () => {
  let user: Awaited<ReturnType<typeof register>>;
  beforeAll(async () => {
    user = await register(server.url, "Tokens");
  });

  const expectRejected = async (token: string, reason: string) => {
    const result = await graphql(server.url, ME, {}, { token });
    expect(result.status).toBe(401);
    expect(result.code).toBe("INVALID_TOKEN");
    expect(result.errors![0]!.extensions!.reason).toBe(reason);
    expect(result.data).toBeUndefined();
  };

  const claimsOf = (token: string) => jwt.decode(token) as Record<string, unknown>;

  it("treats a request without a token as anonymous", async () => {
    const result = await graphql(server.url, ME);
    expect(result.status).toBe(200);
    expect(result.data).toEqual({ currentUser: null, currentOrganization: null, currentMembership: null });
    const invite = await graphql(server.url, INVITE, { email: "x@example.com" });
    expect([invite.status, invite.code]).toEqual([401, "UNAUTHENTICATED"]);
  });

  it("rejects malformed Authorization headers and garbage tokens", async () => {
    const header = await graphql(server.url, ME, {}, { headers: { authorization: "Token abc" } });
    expect([header.status, header.code]).toEqual([401, "INVALID_TOKEN"]);
    await expectRejected("not.a.jwt", "invalid");
    await expectRejected("garbage", "invalid");
  });

  it("rejects expired tokens", async () => {
    const { iat: _iat, exp: _exp, ...claims } = claimsOf(user.token);
    const expired = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT_SECRET, {
      algorithm: "HS256",
    });
    await expectRejected(expired, "expired");
  });

  it("rejects tampered, unsigned and foreign-audience tokens", async () => {
    const [header, payload] = user.token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims, org: "00000000-0000-0000-0000-000000000001" }),
    ).toString("base64url");
    await expectRejected(`${header}.${forgedPayload}.${user.token.split(".")[2]}`, "invalid");

    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    await expectRejected(`${none}.${payload}.`, "invalid");

    const { iat: _iat, ...rest } = claimsOf(user.token);
    const otherSecret = jwt.sign(rest, "another-secret-that-is-also-long-enough-000", { algorithm: "HS256" });
    await expectRejected(otherSecret, "invalid");
    const wrongAudience = jwt.sign({ ...rest, aud: "someone-else" }, TEST_JWT_SECRET, { algorithm: "HS256" });
    await expectRejected(wrongAudience, "invalid");
    const noExpiry = jwt.sign({ sub: rest.sub, sid: rest.sid, aud: rest.aud, iss: rest.iss }, TEST_JWT_SECRET, {
      algorithm: "HS256",
    });
    await expectRejected(noExpiry, "invalid");
  });

  it("stops accepting a token once its session logs out", async () => {
    const session = await login(server.url, user.email);
    const token = session.data!.login.token as string;
    const out = await graphql(
      server.url,
      `
        mutation {
          logout
        }
      `,
      {},
      { token },
    );
    expect(out.data?.logout).toBe(true);
    await expectRejected(token, "revoked");
    expect((await graphql(server.url, ME, {}, { token: user.token })).status).toBe(200);
  });

  it("revokes the user's other sessions on password change", async () => {
    const other = await register(server.url, "Changer");
    const second = (await login(server.url, other.email)).data!.login.token as string;
    const changed = await graphql(
      server.url,
      `
        mutation C($old: String!, $new: String!) {
          changePassword(input: { oldPassword: $old, newPassword: $new }) {
            changed
          }
        }
      `,
      { old: PASSWORD, new: "a brand new passphrase" },
      { token: other.token },
    );
    expect(changed.data?.changePassword.changed).toBe(true);
    await expectRejected(second, "revoked");
    expect((await graphql(server.url, ME, {}, { token: other.token })).data?.currentUser.email).toBe(other.email);
    expect((await login(server.url, other.email, "a brand new passphrase")).status).toBe(200);
    expect((await login(server.url, other.email, PASSWORD)).code).toBe("INVALID_CREDENTIALS");
  });

  it("ignores a token's role claim: the database's membership decides", async () => {
    const viewer = await register(server.url, "Claimer");
    expect(viewer.membershipRole).toBe("viewer");
    const { iat: _iat, exp: _exp, ...claims } = claimsOf(viewer.token);
    const inflated = jwt.sign({ ...claims, role: "owner" }, TEST_JWT_SECRET, { algorithm: "HS256", expiresIn: 600 });
    const invite = await graphql(server.url, INVITE, { email: "friend@example.com" }, { token: inflated });
    expect([invite.status, invite.code]).toEqual([403, "FORBIDDEN"]);
  });
});

describe("browser sessions", () => {
  const cookiesFrom = (headers: Headers) =>
    headers
      .getSetCookie()
      .map((cookie) => cookie.split(";")[0])
      .join("; ");

  it("sets an httpOnly session cookie and requires the CSRF header for writes", async () => {
    const user = await register(server.url, "Browser");
    const signedIn = await login(server.url, user.email);
    const setCookies = signedIn.headers.getSetCookie();
    const sessionCookie = setCookies.find((c) => c.startsWith("ip_session="))!;
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Lax/i);
    expect(setCookies.find((c) => c.startsWith("ip_csrf="))).not.toMatch(/HttpOnly/i);
    const cookie = cookiesFrom(signedIn.headers);
    const csrf = signedIn.data!.login.csrfToken as string;

    const withoutHeader = await graphql(server.url, ME, {}, { cookie });
    expect([withoutHeader.status, withoutHeader.code]).toEqual([403, "CSRF_TOKEN_INVALID"]);
    const wrongHeader = await graphql(server.url, ME, {}, { cookie, headers: { "x-csrf-token": "forged" } });
    expect(wrongHeader.status).toBe(403);
    const withHeader = await graphql(server.url, ME, {}, { cookie, headers: { "x-csrf-token": csrf } });
    expect(withHeader.data?.currentUser.email).toBe(user.email);

    const logout = await graphql(
      server.url,
      `
        mutation {
          logout
        }
      `,
      {},
      { cookie, headers: { "x-csrf-token": csrf } },
    );
    expect(logout.headers.getSetCookie().some((c) => c.startsWith("ip_session=;"))).toBe(true);
    const after = await graphql(server.url, ME, {}, { cookie, headers: { "x-csrf-token": csrf } });
    expect([after.status, after.code]).toEqual([401, "INVALID_TOKEN"]);
  });
});
