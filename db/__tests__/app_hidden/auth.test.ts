/**
 * Identity entry points: app_hidden.register, login, switch_organization, logout, sessions,
 * app_public.create_organization and app_public.change_password, in single-tenant mode (the
 * default of a fresh database) and in multi-tenant mode (DESIGN.md §7).
 *
 * bcrypt (cost 10) makes every register/login cost ~70 ms: fixture users get their password
 * through setPassword (cost 4) unless the test is about registering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import {
  addMember,
  createInvitation,
  createOrganization,
  createUser,
  setMultiTenant,
  setPassword,
  type Role,
} from "../helpers/factories.ts";
import {
  attempt,
  becomeAnonymous,
  becomeRoot,
  becomeUser,
  expectSqlState,
  withRootDb,
  type Client,
} from "../helpers/transactions.ts";
import { expectRefusedToAnonymous, resumeRole } from "../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const PASSWORD = "correct horse battery";
const REGISTER = "select * from app_hidden.register($1, $2, $3, $4)";
const LOGIN = "select * from app_hidden.login($1, $2)";
const SWITCH = "select * from app_hidden.switch_organization($1)";
const CREATE_ORGANIZATION = "select id, slug::text as slug from app_public.create_organization($1, $2)";
const CHANGE_PASSWORD = "select app_public.change_password($1, $2) as changed";

interface Claims {
  session_id: string | null;
  user_id: string | null;
  organization_id: string | null;
  role: Role | null;
}

const inTransaction = (fn: (client: Client) => Promise<void>) => () => withRootDb(db.rootPool, fn);

async function register(client: Client, email: string, invitationToken: string | null = null): Promise<Claims> {
  await becomeAnonymous(client, db.config);
  const { rows } = await client.query<Claims>(REGISTER, [email, "New user", PASSWORD, invitationToken]);
  return rows[0]!;
}

async function login(client: Client, email: string, password: string): Promise<Claims[]> {
  await becomeAnonymous(client, db.config);
  return (await client.query<Claims>(LOGIN, [email, password])).rows;
}

/** A fixture user who can sign in with PASSWORD. */
async function userWithPassword(client: Client, name = "Member") {
  const user = await createUser(client, name);
  await setPassword(client, user.id, PASSWORD);
  return user;
}

async function defaultOrganization(client: Client): Promise<{ id: string } | undefined> {
  await becomeRoot(client);
  const { rows } = await client.query<{ id: string }>("select id from app_public.organizations where slug = 'default'");
  return rows[0];
}

async function membershipsOf(client: Client, userId: string): Promise<{ organization_id: string; role: Role }[]> {
  await becomeRoot(client);
  const { rows } = await client.query<{ organization_id: string; role: Role }>(
    "select organization_id, role::text as role from app_public.organization_memberships where user_id = $1",
    [userId],
  );
  return rows;
}

async function userCount(client: Client): Promise<number> {
  await becomeRoot(client);
  const { rows } = await client.query<{ n: number }>("select count(*)::int as n from app_public.users");
  return rows[0]!.n;
}

async function sessionRevoked(client: Client, sessionId: string): Promise<boolean> {
  await becomeRoot(client);
  const { rows } = await client.query<{ revoked: boolean }>(
    "select revoked_at is not null as revoked from app_private.sessions where id = $1",
    [sessionId],
  );
  return rows[0]!.revoked;
}

describe("app_hidden.register", () => {
  describe("single-tenant mode", () => {
    it(
      "makes the first user owner of the default organization and the second a viewer",
      inTransaction(async (client) => {
        // Action
        const first = await register(client, "first@example.com");
        const second = await register(client, "second@example.com");
        // Assertions
        const defaultOrg = await defaultOrganization(client);
        expect(defaultOrg).toBeDefined();
        expect(first).toMatchObject({ organization_id: defaultOrg!.id, role: "owner" });
        expect(second).toMatchObject({ organization_id: defaultOrg!.id, role: "viewer" });
        expect(first.session_id).not.toBeNull();
        expect(await membershipsOf(client, first.user_id!)).toEqual([
          { organization_id: defaultOrg!.id, role: "owner" },
        ]);
        expect(await membershipsOf(client, second.user_id!)).toEqual([
          { organization_id: defaultOrg!.id, role: "viewer" },
        ]);
      }),
    );

    it(
      "joins with the invited role when given an invitation token",
      inTransaction(async (client) => {
        // Setup: the default organization exists, with an owner who invited an admin.
        const { rows } = await client.query<{ id: string }>("select (app_private.ensure_default_organization()).id");
        const defaultOrgId = rows[0]!.id;
        await addMember(client, defaultOrgId, (await createUser(client, "Owner")).id, "owner");
        const { token } = await createInvitation(client, defaultOrgId, "invited@example.com", "admin");
        // Action
        const claims = await register(client, "invited@example.com", token);
        // Assertions
        expect(claims).toMatchObject({ organization_id: defaultOrgId, role: "admin" });
        expect(await membershipsOf(client, claims.user_id!)).toEqual([
          { organization_id: defaultOrgId, role: "admin" },
        ]);
      }),
    );

    it(
      "refuses an email already taken, whatever its case (IPC03)",
      inTransaction(async (client) => {
        await register(client, "taken@example.com");
        await becomeAnonymous(client, db.config);
        await expectSqlState(client, "IPC03", REGISTER, ["taken@example.com", "Again", PASSWORD, null]);
        await expectSqlState(client, "IPC03", REGISTER, ["TAKEN@Example.COM", "Again", PASSWORD, null]);
        expect(await userCount(client)).toBe(1);
      }),
    );

    it(
      "refuses passwords shorter than 8 characters or longer than 72 bytes (IPA04), creating nothing",
      inTransaction(async (client) => {
        await becomeAnonymous(client, db.config);
        await expectSqlState(client, "IPA04", REGISTER, ["weak@example.com", "Weak", "short", null]);
        await expectSqlState(client, "IPA04", REGISTER, ["weak@example.com", "Weak", "x".repeat(73), null]);
        await expectSqlState(client, "IPA04", REGISTER, ["weak@example.com", "Weak", null, null]);
        expect(await userCount(client)).toBe(0);
      }),
    );

    it(
      "with an unknown invitation token, fails (IPI01) and creates no account",
      inTransaction(async (client) => {
        await becomeAnonymous(client, db.config);
        await expectSqlState(client, "IPI01", REGISTER, ["lost@example.com", "Lost", PASSWORD, "f".repeat(64)]);
        expect(await userCount(client)).toBe(0);
      }),
    );
  });

  describe("multi-tenant mode", () => {
    it(
      "creates the user with no membership and no organization",
      inTransaction(async (client) => {
        await setMultiTenant(client, true);
        const claims = await register(client, "solo@example.com");
        expect(claims.session_id).not.toBeNull();
        expect(claims).toMatchObject({ organization_id: null, role: null });
        expect(await membershipsOf(client, claims.user_id!)).toEqual([]);
        expect(await defaultOrganization(client)).toBeUndefined();
      }),
    );

    it(
      "joins the inviting organization with the invited role",
      inTransaction(async (client) => {
        await setMultiTenant(client, true);
        const organization = await createOrganization(client, "Inviting");
        const { token } = await createInvitation(client, organization.id, "joiner@example.com", "editor");
        const claims = await register(client, "joiner@example.com", token);
        expect(claims).toMatchObject({ organization_id: organization.id, role: "editor" });
      }),
    );
  });
});

describe("app_hidden.login", () => {
  it(
    "returns a new session and the user's organization for the right password",
    inTransaction(async (client) => {
      // Setup
      const user = await userWithPassword(client);
      const organization = await createOrganization(client, "Workplace");
      await addMember(client, organization.id, user.id, "editor");
      // Action
      const rows = await login(client, user.email, PASSWORD);
      // Assertions
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ user_id: user.id, organization_id: organization.id, role: "editor" });
      expect(await sessionRevoked(client, rows[0]!.session_id!)).toBe(false);
    }),
  );

  it(
    "accepts the email in another case",
    inTransaction(async (client) => {
      const user = await userWithPassword(client);
      const rows = await login(client, user.email.toUpperCase(), PASSWORD);
      expect(rows[0]?.user_id).toBe(user.id);
    }),
  );

  it(
    "answers a wrong password and an unknown email with the same row of nulls, and opens no session",
    inTransaction(async (client) => {
      // Setup
      const user = await userWithPassword(client);
      // Action
      const wrongPassword = await login(client, user.email, "not the password");
      const unknownEmail = await login(client, "nobody@example.com", PASSWORD);
      // Assertions
      const nulls = { session_id: null, user_id: null, organization_id: null, role: null };
      expect(wrongPassword).toEqual([nulls]);
      expect(unknownEmail).toEqual([nulls]);
      await becomeRoot(client);
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from app_private.sessions where user_id = $1",
        [user.id],
      );
      expect(rows[0]!.n).toBe(0);
    }),
  );
});

describe("sessions", () => {
  it(
    "a revoked session no longer identifies its user",
    inTransaction(async (client) => {
      // Setup
      const user = await createUser(client);
      const sessionId = await becomeUser(client, db.config, user.id, null);
      const before = await client.query<{ id: string | null }>("select app_hidden.current_user_id() as id");
      // Action
      await becomeRoot(client);
      await client.query("update app_private.sessions set revoked_at = now() where id = $1", [sessionId]);
      await resumeRole(client, db.config.roles.visitor);
      // Assertions
      const after = await client.query<{ id: string | null }>("select app_hidden.current_user_id() as id");
      expect(before.rows[0]!.id).toBe(user.id);
      expect(after.rows[0]!.id).toBeNull();
      await expectSqlState(client, "IPA01", "select app_public.create_organization('x', 'x')");
    }),
  );

  it(
    "an expired session no longer identifies its user",
    inTransaction(async (client) => {
      const user = await createUser(client);
      const sessionId = await becomeUser(client, db.config, user.id, null);
      await becomeRoot(client);
      await client.query(
        "update app_private.sessions set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = $1",
        [sessionId],
      );
      await resumeRole(client, db.config.roles.visitor);
      const { rows } = await client.query<{ id: string | null }>("select app_hidden.current_user_id() as id");
      expect(rows[0]!.id).toBeNull();
    }),
  );

  it(
    "logout revokes the current session only",
    inTransaction(async (client) => {
      const user = await createUser(client);
      const other = await becomeUser(client, db.config, user.id, null);
      const current = await becomeUser(client, db.config, user.id, null);
      await client.query("select app_hidden.logout()");
      const { rows } = await client.query<{ id: string | null }>("select app_hidden.current_user_id() as id");
      expect(rows[0]!.id).toBeNull();
      expect(await sessionRevoked(client, current)).toBe(true);
      expect(await sessionRevoked(client, other)).toBe(false);
    }),
  );
});

describe("app_hidden.switch_organization", () => {
  it(
    "is unavailable in single-tenant mode (IPM01)",
    inTransaction(async (client) => {
      const user = await createUser(client);
      const organization = await createOrganization(client);
      await addMember(client, organization.id, user.id, "owner");
      await becomeUser(client, db.config, user.id, organization.id);
      await expectSqlState(client, "IPM01", SWITCH, [organization.id]);
    }),
  );

  describe("multi-tenant mode", () => {
    async function twoOrganizations(client: Client) {
      await setMultiTenant(client, true);
      const user = await createUser(client);
      const home = await createOrganization(client, "Home");
      const away = await createOrganization(client, "Away");
      const foreign = await createOrganization(client, "Foreign");
      await addMember(client, home.id, user.id, "owner");
      await addMember(client, away.id, user.id, "viewer");
      return { user, home, away, foreign };
    }

    it(
      "re-issues the claims for another membership, in the same session",
      inTransaction(async (client) => {
        const { user, home, away } = await twoOrganizations(client);
        const sessionId = await becomeUser(client, db.config, user.id, home.id);
        const { rows } = await client.query<Claims>(SWITCH, [away.id]);
        expect(rows).toEqual([{ session_id: sessionId, user_id: user.id, organization_id: away.id, role: "viewer" }]);
      }),
    );

    it(
      "refuses an organization the user is not a member of (IPF02)",
      inTransaction(async (client) => {
        const { user, home, foreign } = await twoOrganizations(client);
        await becomeUser(client, db.config, user.id, home.id);
        await expectSqlState(client, "IPF02", SWITCH, [foreign.id]);
        await expectSqlState(client, "IPF02", SWITCH, ["00000000-0000-4000-8000-000000000000"]);
      }),
    );

    it(
      "refuses anonymous callers",
      inTransaction(async (client) => {
        const { home } = await twoOrganizations(client);
        await becomeAnonymous(client, db.config);
        await expectRefusedToAnonymous(client, SWITCH, [home.id]);
      }),
    );
  });
});

describe("app_public.create_organization", () => {
  it(
    "is unavailable in single-tenant mode (IPM01)",
    inTransaction(async (client) => {
      const user = await createUser(client);
      await becomeUser(client, db.config, user.id, null);
      await expectSqlState(client, "IPM01", CREATE_ORGANIZATION, ["Mine", "mine"]);
      await becomeRoot(client);
      const { rows } = await client.query("select 1 from app_public.organizations where slug = 'mine'");
      expect(rows).toEqual([]);
    }),
  );

  describe("multi-tenant mode", () => {
    it(
      "creates the organization with the caller as its only member, an owner",
      inTransaction(async (client) => {
        // Setup
        await setMultiTenant(client, true);
        const user = await createUser(client);
        await becomeUser(client, db.config, user.id, null);
        // Action
        const { rows } = await client.query<{ id: string; slug: string }>(CREATE_ORGANIZATION, [" Mine ", "Mine-Co"]);
        // Assertions
        expect(rows[0]!.slug).toBe("mine-co");
        await becomeRoot(client);
        const members = await client.query<{ user_id: string; role: Role }>(
          "select user_id, role::text as role from app_public.organization_memberships where organization_id = $1",
          [rows[0]!.id],
        );
        expect(members.rows).toEqual([{ user_id: user.id, role: "owner" }]);
      }),
    );

    it(
      "refuses a slug already taken (23505)",
      inTransaction(async (client) => {
        await setMultiTenant(client, true);
        const existing = await createOrganization(client, "Existing");
        const user = await createUser(client);
        await becomeUser(client, db.config, user.id, null);
        await expectSqlState(client, "23505", CREATE_ORGANIZATION, ["Copy", existing.slug]);
      }),
    );

    it(
      "refuses a malformed slug (23514)",
      inTransaction(async (client) => {
        await setMultiTenant(client, true);
        const user = await createUser(client);
        await becomeUser(client, db.config, user.id, null);
        await expectSqlState(client, "23514", CREATE_ORGANIZATION, ["Bad", "bad slug!"]);
        await expectSqlState(client, "23514", CREATE_ORGANIZATION, ["Bad", "-leading-dash"]);
      }),
    );

    it(
      "refuses anonymous callers",
      inTransaction(async (client) => {
        await setMultiTenant(client, true);
        await becomeAnonymous(client, db.config);
        await expectRefusedToAnonymous(client, CREATE_ORGANIZATION, ["Anon", "anon"]);
        await becomeRoot(client);
        const { rows } = await client.query("select 1 from app_public.organizations where slug = 'anon'");
        expect(rows).toEqual([]);
      }),
    );
  });
});

describe("app_public.change_password", () => {
  it(
    "refuses a wrong current password (IPA02)",
    inTransaction(async (client) => {
      const user = await userWithPassword(client);
      await becomeUser(client, db.config, user.id, null);
      await expectSqlState(client, "IPA02", CHANGE_PASSWORD, ["not the password", "a brand new password"]);
    }),
  );

  it(
    "refuses a weak new password (IPA04)",
    inTransaction(async (client) => {
      const user = await userWithPassword(client);
      await becomeUser(client, db.config, user.id, null);
      await expectSqlState(client, "IPA04", CHANGE_PASSWORD, [PASSWORD, "short"]);
    }),
  );

  it(
    "changes the password and revokes the user's other sessions, not the current one nor anyone else's",
    inTransaction(async (client) => {
      // Setup: the user has another session; a colleague has one too.
      const user = await userWithPassword(client);
      const colleague = await createUser(client, "Colleague");
      const otherSession = await becomeUser(client, db.config, user.id, null);
      const colleagueSession = await becomeUser(client, db.config, colleague.id, null);
      const currentSession = await becomeUser(client, db.config, user.id, null);
      // Action
      const { rows } = await client.query<{ changed: boolean }>(CHANGE_PASSWORD, [PASSWORD, "a brand new password"]);
      // Assertions
      expect(rows[0]!.changed).toBe(true);
      expect(await sessionRevoked(client, otherSession)).toBe(true);
      expect(await sessionRevoked(client, currentSession)).toBe(false);
      expect(await sessionRevoked(client, colleagueSession)).toBe(false);
      expect((await login(client, user.email, PASSWORD))[0]!.session_id).toBeNull();
      expect((await login(client, user.email, "a brand new password"))[0]!.user_id).toBe(user.id);
    }),
  );

  it(
    "refuses anonymous callers",
    inTransaction(async (client) => {
      await becomeAnonymous(client, db.config);
      await expectRefusedToAnonymous(client, CHANGE_PASSWORD, [PASSWORD, "a brand new password"]);
    }),
  );
});

describe("the request helpers", () => {
  it(
    "current_organization and current_membership answer for a member, and null for an org they do not belong to",
    inTransaction(async (client) => {
      const user = await createUser(client);
      const mine = await createOrganization(client, "Mine");
      const theirs = await createOrganization(client, "Theirs");
      await addMember(client, mine.id, user.id, "admin");
      await becomeUser(client, db.config, user.id, mine.id);
      const member = await attempt<{ org: string | null; role: string | null }>(
        client,
        "select (app_public.current_organization()).id as org, (app_public.current_membership()).role::text as role",
      );
      await becomeUser(client, db.config, user.id, theirs.id);
      const stranger = await attempt<{ org: string | null; role: string | null }>(
        client,
        "select (app_public.current_organization()).id as org, (app_public.current_membership()).role::text as role",
      );
      expect(member.rows).toEqual([{ org: mine.id, role: "admin" }]);
      expect(stranger.rows).toEqual([{ org: null, role: null }]);
    }),
  );
});
