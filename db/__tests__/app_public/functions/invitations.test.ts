/**
 * Invitations through their functions: app_hidden.invite_member (admins and owners; only
 * owners invite owners; the token is shown once and stored as a SHA-256 hash),
 * app_public.accept_invitation (signed in as the invited email, single use, unexpired,
 * unrevoked) and app_public.revoke_invitation (admins and owners of the active organization).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { addMember, createInvitation, createUser, type Role } from "../../helpers/factories.ts";
import {
  attempt,
  becomeRoot,
  becomeUser,
  expectSqlState,
  withRootDb,
  type Client,
} from "../../helpers/transactions.ts";
import { ACTOR_LABELS, actAs, createWorld, expectRefusedToAnonymous, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const INVITE = "select invitation_id, token from app_hidden.invite_member($1, $2)";
const ACCEPT = "select organization_id, user_id, role::text as role from app_public.accept_invitation($1)";
const REVOKE = "select id, revoked_at from app_public.revoke_invitation($1)";

function inWorld(fn: (client: Client, world: World) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await createWorld(client));
    });
}

interface Issued {
  invitation_id: string;
  token: string;
}

async function invite(client: Client, email: string, role: Role): Promise<Issued> {
  const { rows } = await client.query<Issued>(INVITE, [email, role]);
  return rows[0]!;
}

interface InvitationRow {
  organization_id: string;
  email: string;
  role: Role;
  invited_by: string | null;
  accepted_by: string | null;
  accepted: boolean;
  revoked: boolean;
}

/** The invitation as root sees it. */
async function invitation(client: Client, id: string): Promise<InvitationRow | undefined> {
  await becomeRoot(client);
  const { rows } = await client.query<InvitationRow>(
    `select organization_id, email::text, role::text as role, invited_by, accepted_by,
            accepted_at is not null as accepted, revoked_at is not null as revoked
     from app_public.organization_invitations where id = $1`,
    [id],
  );
  return rows[0];
}

async function invitationCount(client: Client, organizationId: string): Promise<number> {
  await becomeRoot(client);
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from app_public.organization_invitations where organization_id = $1",
    [organizationId],
  );
  return rows[0]!.n;
}

async function roleOf(client: Client, organizationId: string, userId: string): Promise<Role | undefined> {
  await becomeRoot(client);
  const { rows } = await client.query<{ role: Role }>(
    "select role::text as role from app_public.organization_memberships where organization_id = $1 and user_id = $2",
    [organizationId, userId],
  );
  return rows[0]?.role;
}

describe("app_hidden.invite_member", () => {
  describe(ACTOR_LABELS.admin, () => {
    for (const role of ["admin", "editor", "viewer"] as const) {
      it(
        `invites an ${role} to A, and returns the id and a clear token once`,
        inWorld(async (client, world) => {
          // Setup
          await actAs(client, db.config, world, "admin");
          // Action
          const issued = await invite(client, `new-${role}@example.com`, role);
          // Assertions
          expect(issued.token).toMatch(/^[0-9a-f]{64}$/);
          expect(await invitation(client, issued.invitation_id)).toEqual({
            organization_id: world.a.id,
            email: `new-${role}@example.com`,
            role,
            invited_by: world.a.members.admin.id,
            accepted_by: null,
            accepted: false,
            revoked: false,
          });
        }),
      );
    }

    it(
      "cannot invite an owner (IPF04), and creates nothing",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF04", INVITE, ["boss@example.com", "owner"]);
        expect(await invitationCount(client, world.a.id)).toBe(0);
      }),
    );

    it(
      "cannot invite an existing member (IPC02)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPC02", INVITE, [world.a.members.viewer.email, "editor"]);
        expect(await invitationCount(client, world.a.id)).toBe(0);
      }),
    );

    it(
      "cannot invite an existing member under a differently-cased email (IPC02)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPC02", INVITE, [world.a.members.viewer.email.toUpperCase(), "editor"]);
        expect(await invitationCount(client, world.a.id)).toBe(0);
      }),
    );

    it(
      "may invite a member of another organization",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        const issued = await invite(client, world.b.members.viewer.email, "editor");
        expect((await invitation(client, issued.invitation_id))?.organization_id).toBe(world.a.id);
      }),
    );

    it(
      "revokes the pending invitation when the same email is invited again",
      inWorld(async (client, world) => {
        // Setup
        await actAs(client, db.config, world, "admin");
        const first = await invite(client, "twice@example.com", "viewer");
        // Action
        await actAs(client, db.config, world, "admin");
        const second = await invite(client, "twice@example.com", "editor");
        // Assertions
        expect((await invitation(client, first.invitation_id))?.revoked).toBe(true);
        expect(await invitation(client, second.invitation_id)).toMatchObject({ revoked: false, role: "editor" });
        expect(await invitationCount(client, world.a.id)).toBe(2);
      }),
    );

    it(
      "revokes the pending invitation when the same email is invited again in another case",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        const first = await invite(client, "twice@example.com", "viewer");
        await actAs(client, db.config, world, "admin");
        const second = await attempt<Issued>(client, INVITE, ["Twice@Example.com", "editor"]);
        expect(second.error).toBeNull();
        expect((await invitation(client, first.invitation_id))?.revoked).toBe(true);
      }),
    );
  });

  describe(ACTOR_LABELS.owner, () => {
    it(
      "invites an owner",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "owner");
        const issued = await invite(client, "co-owner@example.com", "owner");
        expect(await invitation(client, issued.invitation_id)).toMatchObject({
          organization_id: world.a.id,
          role: "owner",
          invited_by: world.a.members.owner.id,
        });
      }),
    );
  });

  for (const actor of ["editor", "viewer", "outsider"] as const) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "cannot invite anyone (IPF01)",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "IPF01", INVITE, ["friend@example.com", "viewer"]);
          expect(await invitationCount(client, world.a.id)).toBe(0);
        }),
      );
    });
  }

  describe(ACTOR_LABELS.both, () => {
    it(
      "cannot invite into B, which they own, while acting in A (IPF01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectSqlState(client, "IPF01", INVITE, ["friend@example.com", "viewer"]);
        expect(await invitationCount(client, world.b.id)).toBe(0);
      }),
    );
  });

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "invites into B, never into A",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        const issued = await invite(client, "friend@example.com", "viewer");
        expect((await invitation(client, issued.invitation_id))?.organization_id).toBe(world.b.id);
        expect(await invitationCount(client, world.a.id)).toBe(0);
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "is refused",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectRefusedToAnonymous(client, INVITE, ["friend@example.com", "viewer"]);
        expect(await invitationCount(client, world.a.id)).toBe(0);
      }),
    );
  });

  describe("token storage", () => {
    it(
      "stores the SHA-256 of the token and the clear token nowhere",
      inWorld(async (client, world) => {
        // Setup
        await actAs(client, db.config, world, "admin");
        // Action
        const issued = await invite(client, "secret@example.com", "viewer");
        // Assertions: the stored hash is the token's SHA-256.
        await becomeRoot(client);
        const { rows: stored } = await client.query<{ matches: boolean }>(
          `select t.token_hash = public.digest($2::text, 'sha256') as matches
           from app_private.invitation_tokens t where t.invitation_id = $1`,
          [issued.invitation_id, issued.token],
        );
        expect(stored).toEqual([{ matches: true }]);
        // No row of any table in our schemas contains the clear token, as text or as hex.
        const { rows: tables } = await client.query<{ name: string }>(
          `select format('%I.%I', n.nspname, c.relname) as name
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where c.relkind = 'r' and n.nspname in ('app_public', 'app_hidden', 'app_private')`,
        );
        expect(tables.length).toBeGreaterThan(5);
        for (const { name } of tables) {
          const { rows } = await client.query<{ n: number }>(
            `select count(*)::int as n from ${name} t
             where strpos(t::text, $1) > 0 or strpos(t::text, encode(convert_to($1, 'UTF8'), 'hex')) > 0`,
            [issued.token],
          );
          expect(rows[0]!.n, `${name} holds the clear token`).toBe(0);
        }
      }),
    );
  });
});

describe("app_public.accept_invitation", () => {
  /** An outsider invited to A with `role`, signed in with no active organization. */
  async function invitedOutsider(client: Client, world: World, role: Role = "editor") {
    const invitee = world.outsider;
    const issued = await createInvitation(client, world.a.id, invitee.email, role);
    await becomeUser(client, db.config, invitee.id, null);
    return { invitee, ...issued };
  }

  it(
    "joins the inviting organization with the invited role, once",
    inWorld(async (client, world) => {
      // Setup
      const { invitee, id, token } = await invitedOutsider(client, world, "editor");
      // Action
      const { rows } = await client.query(ACCEPT, [token]);
      // Assertions
      expect(rows).toEqual([{ organization_id: world.a.id, user_id: invitee.id, role: "editor" }]);
      expect(await roleOf(client, world.a.id, invitee.id)).toBe("editor");
      expect(await invitation(client, id)).toMatchObject({ accepted: true, accepted_by: invitee.id, revoked: false });
    }),
  );

  it(
    "matches the invited email case-insensitively",
    inWorld(async (client, world) => {
      const invitee = world.outsider;
      const { token } = await createInvitation(client, world.a.id, invitee.email.toUpperCase(), "viewer");
      await becomeUser(client, db.config, invitee.id, null);
      const accepted = await attempt(client, ACCEPT, [token]);
      expect(accepted.error).toBeNull();
      expect(await roleOf(client, world.a.id, invitee.id)).toBe("viewer");
    }),
  );

  it(
    "accepts an owner invitation as owner",
    inWorld(async (client, world) => {
      const { invitee, token } = await invitedOutsider(client, world, "owner");
      await client.query(ACCEPT, [token]);
      expect(await roleOf(client, world.a.id, invitee.id)).toBe("owner");
    }),
  );

  it(
    "refuses a user signed in with another email (IPI05), and leaves the invitation pending",
    inWorld(async (client, world) => {
      const { id, token } = await createInvitation(client, world.a.id, world.outsider.email, "admin");
      const someoneElse = await createUser(client, "Someone else");
      await becomeUser(client, db.config, someoneElse.id, null);
      await expectSqlState(client, "IPI05", ACCEPT, [token]);
      expect(await roleOf(client, world.a.id, someoneElse.id)).toBeUndefined();
      expect(await invitation(client, id)).toMatchObject({ accepted: false, revoked: false });
    }),
  );

  it(
    "refuses a token used before (IPI04)",
    inWorld(async (client, world) => {
      const { invitee, token } = await invitedOutsider(client, world);
      await client.query(ACCEPT, [token]);
      // The same user again (now a member), in a fresh session.
      await becomeUser(client, db.config, invitee.id, null);
      await expectSqlState(client, "IPI04", ACCEPT, [token]);
    }),
  );

  it(
    "refuses an expired invitation (IPI02)",
    inWorld(async (client, world) => {
      const { invitee, id, token } = await invitedOutsider(client, world);
      await becomeRoot(client);
      await client.query(
        "update app_public.organization_invitations set expires_at = now() - interval '1 minute' where id = $1",
        [id],
      );
      await becomeUser(client, db.config, invitee.id, null);
      await expectSqlState(client, "IPI02", ACCEPT, [token]);
      expect(await roleOf(client, world.a.id, invitee.id)).toBeUndefined();
    }),
  );

  it(
    "refuses an invitation an admin revoked (IPI03)",
    inWorld(async (client, world) => {
      // Setup: the admin revokes through the function.
      const { invitee, id, token } = await invitedOutsider(client, world);
      await actAs(client, db.config, world, "admin");
      await client.query(REVOKE, [id]);
      // Action
      await becomeUser(client, db.config, invitee.id, null);
      await expectSqlState(client, "IPI03", ACCEPT, [token]);
      // Assertions
      expect(await roleOf(client, world.a.id, invitee.id)).toBeUndefined();
    }),
  );

  it(
    "refuses the older token once the email has been invited again (IPI03)",
    inWorld(async (client, world) => {
      await actAs(client, db.config, world, "admin");
      const first = await invite(client, world.outsider.email, "viewer");
      await actAs(client, db.config, world, "admin");
      const second = await invite(client, world.outsider.email, "editor");
      await becomeUser(client, db.config, world.outsider.id, null);
      await expectSqlState(client, "IPI03", ACCEPT, [first.token]);
      await client.query(ACCEPT, [second.token]);
      expect(await roleOf(client, world.a.id, world.outsider.id)).toBe("editor");
    }),
  );

  it(
    "refuses an unknown token (IPI01)",
    inWorld(async (client, world) => {
      await becomeUser(client, db.config, world.outsider.id, null);
      await expectSqlState(client, "IPI01", ACCEPT, ["0".repeat(64)]);
      await expectSqlState(client, "IPI01", ACCEPT, [""]);
    }),
  );

  it(
    "refuses a user who became a member in the meantime (IPC02)",
    inWorld(async (client, world) => {
      const { invitee, token } = await invitedOutsider(client, world, "admin");
      await becomeRoot(client);
      await addMember(client, world.a.id, invitee.id, "viewer");
      await becomeUser(client, db.config, invitee.id, null);
      await expectSqlState(client, "IPC02", ACCEPT, [token]);
      expect(await roleOf(client, world.a.id, invitee.id)).toBe("viewer");
    }),
  );

  it(
    "refuses anonymous callers",
    inWorld(async (client, world) => {
      const { id, token } = await createInvitation(client, world.a.id, world.outsider.email, "viewer");
      await actAs(client, db.config, world, "anonymous");
      await expectRefusedToAnonymous(client, ACCEPT, [token]);
      expect(await invitation(client, id)).toMatchObject({ accepted: false });
    }),
  );
});

describe("app_public.revoke_invitation", () => {
  for (const actor of ["owner", "admin"] as const) {
    it(
      `${ACTOR_LABELS[actor]}: revokes a pending invitation of A`,
      inWorld(async (client, world) => {
        const { id } = await createInvitation(client, world.a.id, "pending@example.com", "viewer");
        await actAs(client, db.config, world, actor);
        const { rows } = await client.query<{ id: string; revoked_at: Date | null }>(REVOKE, [id]);
        expect(rows[0]!.id).toBe(id);
        expect(rows[0]!.revoked_at).not.toBeNull();
        expect((await invitation(client, id))?.revoked).toBe(true);
      }),
    );
  }

  it(
    `${ACTOR_LABELS.admin}: gets NOT_FOUND for an invitation already revoked (IPN01)`,
    inWorld(async (client, world) => {
      const { id } = await createInvitation(client, world.a.id, "pending@example.com", "viewer");
      await actAs(client, db.config, world, "admin");
      await client.query(REVOKE, [id]);
      await expectSqlState(client, "IPN01", REVOKE, [id]);
    }),
  );

  it(
    `${ACTOR_LABELS.admin}: gets NOT_FOUND for B's invitation, which stays pending (IPN01)`,
    inWorld(async (client, world) => {
      const { id } = await createInvitation(client, world.b.id, "pending@example.com", "viewer");
      await actAs(client, db.config, world, "admin");
      await expectSqlState(client, "IPN01", REVOKE, [id]);
      expect((await invitation(client, id))?.revoked).toBe(false);
    }),
  );

  it(
    `${ACTOR_LABELS.otherOwner}: gets NOT_FOUND for A's invitation, which stays pending (IPN01)`,
    inWorld(async (client, world) => {
      const { id } = await createInvitation(client, world.a.id, "pending@example.com", "viewer");
      await actAs(client, db.config, world, "otherOwner");
      await expectSqlState(client, "IPN01", REVOKE, [id]);
      expect((await invitation(client, id))?.revoked).toBe(false);
    }),
  );

  for (const actor of ["editor", "viewer", "both", "outsider"] as const) {
    it(
      `${ACTOR_LABELS[actor]}: is refused (IPF01)`,
      inWorld(async (client, world) => {
        const { id } = await createInvitation(client, world.a.id, "pending@example.com", "viewer");
        await actAs(client, db.config, world, actor);
        await expectSqlState(client, "IPF01", REVOKE, [id]);
        expect((await invitation(client, id))?.revoked).toBe(false);
      }),
    );
  }

  it(
    `${ACTOR_LABELS.anonymous}: is refused`,
    inWorld(async (client, world) => {
      const { id } = await createInvitation(client, world.a.id, "pending@example.com", "viewer");
      await actAs(client, db.config, world, "anonymous");
      await expectRefusedToAnonymous(client, REVOKE, [id]);
      expect((await invitation(client, id))?.revoked).toBe(false);
    }),
  );
});
