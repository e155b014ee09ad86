/**
 * app_public.change_member_role and app_public.remove_member, per actor, plus the invariant
 * that an organization always keeps an owner (DESIGN.md §5).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import {
  addMember,
  createOrganization,
  createUser,
  deleteOrganizationAsWorker,
  type Role,
} from "../../helpers/factories.ts";
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

const CHANGE_ROLE = "select organization_id, user_id, role::text as role from app_public.change_member_role($1, $2)";
const REMOVE = "select organization_id, user_id, role::text as role from app_public.remove_member($1)";

function inWorld(fn: (client: Client, world: World) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await createWorld(client));
    });
}

/** The role as root sees it (undefined when the membership is gone). */
async function roleOf(client: Client, organizationId: string, userId: string): Promise<Role | undefined> {
  await becomeRoot(client);
  const { rows } = await client.query<{ role: Role }>(
    "select role::text as role from app_public.organization_memberships where organization_id = $1 and user_id = $2",
    [organizationId, userId],
  );
  return rows[0]?.role;
}

async function membershipCount(client: Client, organizationId: string): Promise<number> {
  await becomeRoot(client);
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from app_public.organization_memberships where organization_id = $1",
    [organizationId],
  );
  return rows[0]!.n;
}

/** A second owner of A. */
async function addSecondOwner(client: Client, world: World) {
  const coOwner = await createUser(client, "Co-owner");
  await addMember(client, world.a.id, coOwner.id, "owner");
  return coOwner;
}

describe("app_public.change_member_role", () => {
  describe(ACTOR_LABELS.owner, () => {
    it(
      "grants the owner role, and takes it from another owner",
      inWorld(async (client, world) => {
        // Setup
        const coOwner = await addSecondOwner(client, world);
        await actAs(client, db.config, world, "owner");
        // Action
        const granted = await attempt(client, CHANGE_ROLE, [world.a.members.viewer.id, "owner"]);
        const taken = await attempt(client, CHANGE_ROLE, [coOwner.id, "admin"]);
        // Assertions
        expect([granted.error, taken.error]).toEqual([null, null]);
        expect(granted.rows[0]).toMatchObject({ organization_id: world.a.id, role: "owner" });
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBe("owner");
        expect(await roleOf(client, world.a.id, coOwner.id)).toBe("admin");
      }),
    );

    it(
      "cannot change their own role, even with another owner present (IPF03)",
      inWorld(async (client, world) => {
        await addSecondOwner(client, world);
        await actAs(client, db.config, world, "owner");
        await expectSqlState(client, "IPF03", CHANGE_ROLE, [world.a.members.owner.id, "admin"]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );
  });

  describe(ACTOR_LABELS.admin, () => {
    it(
      "changes the roles of editors and viewers",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        const demoted = await attempt(client, CHANGE_ROLE, [world.a.members.editor.id, "viewer"]);
        const promoted = await attempt(client, CHANGE_ROLE, [world.a.members.viewer.id, "admin"]);
        expect([demoted.error, promoted.error]).toEqual([null, null]);
        expect(demoted.rows[0]).toMatchObject({ user_id: world.a.members.editor.id, role: "viewer" });
        expect(await roleOf(client, world.a.id, world.a.members.editor.id)).toBe("viewer");
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBe("admin");
      }),
    );

    it(
      "cannot grant the owner role (IPF04)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF04", CHANGE_ROLE, [world.a.members.editor.id, "owner"]);
        expect(await roleOf(client, world.a.id, world.a.members.editor.id)).toBe("editor");
      }),
    );

    it(
      "cannot take the owner role (IPF04)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF04", CHANGE_ROLE, [world.a.members.owner.id, "viewer"]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );

    it(
      "cannot change their own role (IPF03)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF03", CHANGE_ROLE, [world.a.members.admin.id, "viewer"]);
        expect(await roleOf(client, world.a.id, world.a.members.admin.id)).toBe("admin");
      }),
    );

    it(
      "cannot reach a member of another organization (IPN01), who keeps their role",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPN01", CHANGE_ROLE, [world.b.members.viewer.id, "admin"]);
        expect(await roleOf(client, world.b.id, world.b.members.viewer.id)).toBe("viewer");
      }),
    );
  });

  for (const actor of ["editor", "viewer"] as const) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "cannot change anyone's role (IPF01), their own included",
        inWorld(async (client, world) => {
          const other = actor === "editor" ? world.a.members.viewer : world.a.members.editor;
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "IPF01", CHANGE_ROLE, [other.id, "admin"]);
          await expectSqlState(client, "IPF01", CHANGE_ROLE, [world.a.members[actor].id, "admin"]);
          expect(await roleOf(client, world.a.id, other.id)).toBe(actor === "editor" ? "viewer" : "editor");
          expect(await roleOf(client, world.a.id, world.a.members[actor].id)).toBe(actor);
        }),
      );
    });
  }

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "cannot change the role of A's member (IPN01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        await expectSqlState(client, "IPN01", CHANGE_ROLE, [world.a.members.viewer.id, "owner"]);
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBe("viewer");
      }),
    );
  });

  describe(ACTOR_LABELS.both, () => {
    it(
      "cannot use their ownership of B while acting in A (IPF01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectSqlState(client, "IPF01", CHANGE_ROLE, [world.b.members.viewer.id, "admin"]);
        expect(await roleOf(client, world.b.id, world.b.members.viewer.id)).toBe("viewer");
      }),
    );
  });

  describe(ACTOR_LABELS.outsider, () => {
    it(
      "is refused (IPF01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        await expectSqlState(client, "IPF01", CHANGE_ROLE, [world.a.members.viewer.id, "admin"]);
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "is refused",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectRefusedToAnonymous(client, CHANGE_ROLE, [world.a.members.viewer.id, "admin"]);
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBe("viewer");
      }),
    );
  });

  describe("the database, not the token, decides the caller's role", () => {
    it(
      "an admin demoted by the owner loses the right at the next statement (IPF01)",
      inWorld(async (client, world) => {
        // Setup: the owner demotes the admin.
        await actAs(client, db.config, world, "owner");
        await client.query(CHANGE_ROLE, [world.a.members.admin.id, "viewer"]);
        // Action: the former admin, whose session still names A.
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF01", CHANGE_ROLE, [world.a.members.editor.id, "viewer"]);
        // Assertions
        expect(await roleOf(client, world.a.id, world.a.members.editor.id)).toBe("editor");
      }),
    );
  });
});

describe("app_public.remove_member", () => {
  describe(ACTOR_LABELS.owner, () => {
    it(
      "removes an admin",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "owner");
        const { rows } = await client.query(REMOVE, [world.a.members.admin.id]);
        expect(rows[0]).toMatchObject({ organization_id: world.a.id, user_id: world.a.members.admin.id });
        expect(await roleOf(client, world.a.id, world.a.members.admin.id)).toBeUndefined();
      }),
    );

    it(
      "cannot leave as the last owner (IPC01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "owner");
        await expectSqlState(client, "IPC01", REMOVE, [world.a.members.owner.id]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );

    it(
      "leaves when another owner remains",
      inWorld(async (client, world) => {
        const coOwner = await addSecondOwner(client, world);
        await actAs(client, db.config, world, "owner");
        await client.query(REMOVE, [world.a.members.owner.id]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBeUndefined();
        expect(await roleOf(client, world.a.id, coOwner.id)).toBe("owner");
      }),
    );

    it(
      "removes another owner",
      inWorld(async (client, world) => {
        const coOwner = await addSecondOwner(client, world);
        await actAs(client, db.config, world, "owner");
        await client.query(REMOVE, [coOwner.id]);
        expect(await roleOf(client, world.a.id, coOwner.id)).toBeUndefined();
      }),
    );
  });

  describe(ACTOR_LABELS.admin, () => {
    it(
      "removes an editor",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await client.query(REMOVE, [world.a.members.editor.id]);
        expect(await roleOf(client, world.a.id, world.a.members.editor.id)).toBeUndefined();
      }),
    );

    it(
      "cannot remove an owner (IPF04)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF04", REMOVE, [world.a.members.owner.id]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );

    it(
      "gets NOT_FOUND for a member of another organization, who stays (IPN01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPN01", REMOVE, [world.b.members.viewer.id]);
        expect(await roleOf(client, world.b.id, world.b.members.viewer.id)).toBe("viewer");
        expect(await membershipCount(client, world.b.id)).toBe(5);
      }),
    );

    it(
      "gets NOT_FOUND for an unknown user (IPN01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPN01", REMOVE, ["00000000-0000-4000-8000-000000000000"]);
      }),
    );

    it(
      "removes a user in both organizations from A only",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await client.query(REMOVE, [world.both.id]);
        expect(await roleOf(client, world.a.id, world.both.id)).toBeUndefined();
        expect(await roleOf(client, world.b.id, world.both.id)).toBe("owner");
      }),
    );
  });

  for (const actor of ["editor", "viewer"] as const) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "cannot remove a colleague (IPF01)",
        inWorld(async (client, world) => {
          const other = actor === "editor" ? world.a.members.viewer : world.a.members.editor;
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "IPF01", REMOVE, [other.id]);
          expect(await roleOf(client, world.a.id, other.id)).toBeDefined();
        }),
      );

      it(
        "leaves A",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          const { rows } = await client.query(REMOVE, [world.a.members[actor].id]);
          expect(rows[0]).toMatchObject({ user_id: world.a.members[actor].id, role: actor });
          expect(await roleOf(client, world.a.id, world.a.members[actor].id)).toBeUndefined();
          expect(await membershipCount(client, world.a.id)).toBe(4);
        }),
      );
    });
  }

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "cannot remove A's member: NOT_FOUND, and nothing happens (IPN01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        await expectSqlState(client, "IPN01", REMOVE, [world.a.members.viewer.id]);
        await expectSqlState(client, "IPN01", REMOVE, [world.a.members.owner.id]);
        expect(await membershipCount(client, world.a.id)).toBe(5);
      }),
    );
  });

  describe(ACTOR_LABELS.both, () => {
    it(
      "cannot remove B's members while acting in A (IPF01), nor leave B from A",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectSqlState(client, "IPF01", REMOVE, [world.b.members.viewer.id]);
        expect(await roleOf(client, world.b.id, world.b.members.viewer.id)).toBe("viewer");
        expect(await roleOf(client, world.b.id, world.both.id)).toBe("owner");
      }),
    );
  });

  describe(ACTOR_LABELS.outsider, () => {
    it(
      "is refused (IPF01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        await expectSqlState(client, "IPF01", REMOVE, [world.a.members.viewer.id]);
        expect(await membershipCount(client, world.a.id)).toBe(5);
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "is refused",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectRefusedToAnonymous(client, REMOVE, [world.a.members.viewer.id]);
        expect(await membershipCount(client, world.a.id)).toBe(5);
      }),
    );
  });
});

describe("an organization always keeps an owner", () => {
  it(
    "within one transaction: after removing the other owner, the remaining one cannot leave (IPC01)",
    inWorld(async (client, world) => {
      // Setup
      const coOwner = await addSecondOwner(client, world);
      await actAs(client, db.config, world, "owner");
      // Action
      await client.query(REMOVE, [coOwner.id]);
      await expectSqlState(client, "IPC01", REMOVE, [world.a.members.owner.id]);
      // Assertions
      expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
    }),
  );

  it(
    "within one transaction: after demoting the other owner, the demoted one cannot take anyone's ownership",
    inWorld(async (client, world) => {
      const coOwner = await addSecondOwner(client, world);
      await actAs(client, db.config, world, "owner");
      await client.query(CHANGE_ROLE, [coOwner.id, "admin"]);
      // The demoted co-owner acts next, in the same transaction.
      await becomeUser(client, db.config, coOwner.id, world.a.id);
      await expectSqlState(client, "IPF04", CHANGE_ROLE, [world.a.members.owner.id, "admin"]);
      await expectSqlState(client, "IPF04", REMOVE, [world.a.members.owner.id]);
      expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
    }),
  );

  it(
    "one statement removing every owner fails, even for privileged code with no signed-in user (IPC01)",
    inWorld(async (client, world) => {
      await addSecondOwner(client, world);
      // As root, no request settings: the actor rules trust it, the owner invariant does not.
      await expectSqlState(
        client,
        "IPC01",
        "delete from app_public.organization_memberships where organization_id = $1 and role = 'owner'",
        [world.a.id],
      );
      await expectSqlState(
        client,
        "IPC01",
        "update app_public.organization_memberships set role = 'admin' where organization_id = $1 and role = 'owner'",
        [world.a.id],
      );
      expect(await membershipCount(client, world.a.id)).toBe(6);
    }),
  );

  it(
    "deleting the organization removes every membership without IPC01",
    inWorld(async (client, world) => {
      // Action: what the worker does once an owner's deletion request is due.
      expect(await deleteOrganizationAsWorker(client, db.config.roles.owner, world.a.id)).toBe(true);
      // Assertions
      expect(await membershipCount(client, world.a.id)).toBe(0);
      // B, which shares a member with A, is untouched.
      expect(await membershipCount(client, world.b.id)).toBe(5);
    }),
  );

  it("an organization with a single owner and no one else can still be deleted", () =>
    withRootDb(db.rootPool, async (client) => {
      const solo = await createOrganization(client, "Solo");
      const owner = await createUser(client, "Solo owner");
      await addMember(client, solo.id, owner.id, "owner");
      expect(await deleteOrganizationAsWorker(client, db.config.roles.owner, solo.id)).toBe(true);
      expect(await membershipCount(client, solo.id)).toBe(0);
    }));
});

describe("an organization always keeps an owner, across concurrent transactions", () => {
  // The one test here that commits: two transactions cannot share uncommitted fixtures. It
  // uses this file's own database and deletes what it created.
  it("two owners demoting each other at once: the second waits for the first, then fails (IPC01)", async () => {
    // Setup (committed): an organization with two owners.
    const setup = await db.rootPool.connect();
    const first = await db.rootPool.connect();
    const second = await db.rootPool.connect();
    let organizationId: string | undefined;
    const userIds: string[] = [];
    try {
      const organization = await createOrganization(setup, "Race");
      organizationId = organization.id;
      const one = await createUser(setup, "Owner one");
      const two = await createUser(setup, "Owner two");
      userIds.push(one.id, two.id);
      await addMember(setup, organization.id, one.id, "owner");
      await addMember(setup, organization.id, two.id, "owner");

      // Action: owner one demotes owner two and holds the organization's lock...
      await first.query("begin");
      await becomeUser(first, db.config, one.id, organization.id);
      await first.query(CHANGE_ROLE, [two.id, "admin"]);
      // ...while owner two, who still sees themselves as owner, demotes owner one.
      await second.query("begin");
      await becomeUser(second, db.config, two.id, organization.id);
      let settled = false;
      const racing = second.query(CHANGE_ROLE, [one.id, "admin"]).then(
        () => {
          settled = true;
          return null;
        },
        (error: { code?: string }) => {
          settled = true;
          return error.code ?? "unknown";
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const waitedForTheLock = !settled;
      await first.query("commit");
      const outcome = await racing;
      await second.query("rollback");

      // Assertions
      expect(waitedForTheLock).toBe(true);
      expect(outcome).toBe("IPC01");
      expect(await roleOf(setup, organization.id, one.id)).toBe("owner");
      expect(await roleOf(setup, organization.id, two.id)).toBe("admin");
    } finally {
      await first.query("rollback").catch(() => undefined);
      await second.query("rollback").catch(() => undefined);
      await setup.query("reset role");
      if (organizationId) await setup.query("delete from app_public.organizations where id = $1", [organizationId]);
      await setup.query("delete from app_public.users where id = any($1::uuid[])", [userIds]);
      for (const client of [setup, first, second]) client.release();
    }
  });
});
