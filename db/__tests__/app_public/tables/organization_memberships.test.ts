/**
 * app_public.organization_memberships, table access per actor: members see their colleagues'
 * memberships plus their own memberships elsewhere; admins and owners change roles (only
 * owners to or from owner, nobody their own); anyone leaves; nobody inserts directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import type { Role } from "../../helpers/factories.ts";
import { becomeRoot, becomeUser, expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";
import {
  ACTOR_LABELS,
  actAs,
  createWorld,
  expectNoEffect,
  expectNothingVisible,
  expectRowCount,
  sorted,
  type World,
} from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const SELECT_ALL =
  "select organization_id::text || '/' || user_id::text as key from app_public.organization_memberships";
const SET_ROLE = "update app_public.organization_memberships set role = $3 where organization_id = $1 and user_id = $2";
const DELETE = "delete from app_public.organization_memberships where organization_id = $1 and user_id = $2";
const INSERT =
  "insert into app_public.organization_memberships (organization_id, user_id, role) values ($1, $2, 'owner')";

function inWorld(fn: (client: Client, world: World) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await createWorld(client));
    });
}

const key = (organizationId: string, userId: string) => `${organizationId}/${userId}`;

/** Every membership of an organization, as keys. */
const membershipsOf = (organization: World["a"], ...extraUserIds: string[]) =>
  [...Object.values(organization.members).map((member) => member.id), ...extraUserIds].map((userId) =>
    key(organization.id, userId),
  );

async function visibleKeys(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ key: string }>(SELECT_ALL);
  return rows.map((row) => row.key).sort();
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

describe("app_public.organization_memberships", () => {
  describe("members of A (each role)", () => {
    for (const actor of ["owner", "admin", "editor", "viewer"] as const) {
      it(
        `SELECT as ${actor}: sees every membership of A and none of B`,
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          expect(await visibleKeys(client)).toEqual(sorted(membershipsOf(world.a, world.both.id)));
        }),
      );

      it(
        `INSERT as ${actor}: refused, even adding someone to A`,
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "42501", INSERT, [world.a.id, world.outsider.id]);
          expect(await roleOf(client, world.a.id, world.outsider.id)).toBeUndefined();
        }),
      );

      it(
        `UPDATE as ${actor}: cannot move a membership to another user or organization (columns not granted)`,
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(
            client,
            "42501",
            "update app_public.organization_memberships set user_id = $3 where organization_id = $1 and user_id = $2",
            [world.a.id, world.a.members.viewer.id, world.outsider.id],
          );
          await expectSqlState(
            client,
            "42501",
            "update app_public.organization_memberships set organization_id = $3 where organization_id = $1 and user_id = $2",
            [world.a.id, world.a.members.viewer.id, world.b.id],
          );
        }),
      );
    }
  });

  describe(ACTOR_LABELS.owner, () => {
    it(
      "UPDATE: changes an admin's role and grants the owner role",
      inWorld(async (client, world) => {
        const { admin, viewer } = world.a.members;
        await actAs(client, db.config, world, "owner");
        await expectRowCount(client, 1, SET_ROLE, [world.a.id, admin.id, "editor"]);
        await expectRowCount(client, 1, SET_ROLE, [world.a.id, viewer.id, "owner"]);
        expect(await roleOf(client, world.a.id, admin.id)).toBe("editor");
        expect(await roleOf(client, world.a.id, viewer.id)).toBe("owner");
      }),
    );

    it(
      "UPDATE: cannot change their own role (IPF03)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "owner");
        await expectSqlState(client, "IPF03", SET_ROLE, [world.a.id, world.a.members.owner.id, "admin"]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );

    it(
      "DELETE: removes an admin",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "owner");
        await expectRowCount(client, 1, DELETE, [world.a.id, world.a.members.admin.id]);
        expect(await roleOf(client, world.a.id, world.a.members.admin.id)).toBeUndefined();
      }),
    );

    it(
      "DELETE: cannot leave as A's only owner (IPC01)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "owner");
        await expectSqlState(client, "IPC01", DELETE, [world.a.id, world.a.members.owner.id]);
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );
  });

  describe(ACTOR_LABELS.admin, () => {
    it(
      "UPDATE: changes the roles of editors and viewers",
      inWorld(async (client, world) => {
        const { editor, viewer } = world.a.members;
        await actAs(client, db.config, world, "admin");
        await expectRowCount(client, 1, SET_ROLE, [world.a.id, editor.id, "viewer"]);
        await expectRowCount(client, 1, SET_ROLE, [world.a.id, viewer.id, "admin"]);
        expect(await roleOf(client, world.a.id, editor.id)).toBe("viewer");
        expect(await roleOf(client, world.a.id, viewer.id)).toBe("admin");
      }),
    );

    it(
      "UPDATE: cannot grant or take the owner role (IPF04)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF04", SET_ROLE, [world.a.id, world.a.members.viewer.id, "owner"]);
        await expectSqlState(client, "IPF04", SET_ROLE, [world.a.id, world.a.members.owner.id, "admin"]);
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBe("viewer");
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );

    it(
      "UPDATE: cannot change their own role (IPF03)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectSqlState(client, "IPF03", SET_ROLE, [world.a.id, world.a.members.admin.id, "viewer"]);
      }),
    );

    it(
      "DELETE: removes a viewer, but not an owner (IPF04)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "admin");
        await expectRowCount(client, 1, DELETE, [world.a.id, world.a.members.viewer.id]);
        await expectSqlState(client, "IPF04", DELETE, [world.a.id, world.a.members.owner.id]);
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBeUndefined();
        expect(await roleOf(client, world.a.id, world.a.members.owner.id)).toBe("owner");
      }),
    );
  });

  for (const actor of ["editor", "viewer"] as const) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "UPDATE: changes nobody's role (0 rows)",
        inWorld(async (client, world) => {
          const other = actor === "editor" ? world.a.members.viewer : world.a.members.editor;
          await actAs(client, db.config, world, actor);
          await expectNoEffect(client, SET_ROLE, [world.a.id, other.id, "admin"]);
          await expectNoEffect(client, SET_ROLE, [world.a.id, world.a.members[actor].id, "owner"]);
          expect(await roleOf(client, world.a.id, other.id)).toBe(actor === "editor" ? "viewer" : "editor");
          expect(await roleOf(client, world.a.id, world.a.members[actor].id)).toBe(actor);
        }),
      );

      it(
        "DELETE: cannot remove a colleague (0 rows)",
        inWorld(async (client, world) => {
          const other = actor === "editor" ? world.a.members.viewer : world.a.members.editor;
          await actAs(client, db.config, world, actor);
          await expectNoEffect(client, DELETE, [world.a.id, other.id]);
          expect(await roleOf(client, world.a.id, other.id)).toBeDefined();
        }),
      );

      it(
        "DELETE: leaves A",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectRowCount(client, 1, DELETE, [world.a.id, world.a.members[actor].id]);
          expect(await roleOf(client, world.a.id, world.a.members[actor].id)).toBeUndefined();
        }),
      );
    });
  }

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "SELECT: sees B's memberships, none of A's",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        expect(await visibleKeys(client)).toEqual(sorted(membershipsOf(world.b, world.both.id)));
      }),
    );

    it(
      "INSERT into A refused; UPDATE and DELETE of A's memberships affect nothing",
      inWorld(async (client, world) => {
        const { owner, viewer } = world.a.members;
        await actAs(client, db.config, world, "otherOwner");
        await expectSqlState(client, "42501", INSERT, [world.a.id, world.b.members.owner.id]);
        await expectNoEffect(client, SET_ROLE, [world.a.id, viewer.id, "admin"]);
        await expectNoEffect(client, DELETE, [world.a.id, viewer.id]);
        await expectNoEffect(client, DELETE, [world.a.id, owner.id]);
        expect(await roleOf(client, world.a.id, viewer.id)).toBe("viewer");
        expect(await roleOf(client, world.a.id, owner.id)).toBe("owner");
        expect(await roleOf(client, world.a.id, world.b.members.owner.id)).toBeUndefined();
      }),
    );
  });

  describe(ACTOR_LABELS.both, () => {
    it(
      "SELECT: sees A's memberships and their own membership in B, no other of B's",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        const visible = await visibleKeys(client);
        expect(visible).toEqual(sorted([...membershipsOf(world.a, world.both.id), key(world.b.id, world.both.id)]));
        expect(visible).not.toContain(key(world.b.id, world.b.members.viewer.id));
      }),
    );

    it(
      "UPDATE and DELETE in B, which they own, affect nothing while acting in A",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectNoEffect(client, SET_ROLE, [world.b.id, world.b.members.viewer.id, "admin"]);
        await expectNoEffect(client, DELETE, [world.b.id, world.b.members.viewer.id]);
        await expectNoEffect(client, DELETE, [world.b.id, world.both.id]);
        expect(await roleOf(client, world.b.id, world.b.members.viewer.id)).toBe("viewer");
        expect(await roleOf(client, world.b.id, world.both.id)).toBe("owner");
      }),
    );
  });

  describe(ACTOR_LABELS.outsider, () => {
    it(
      "SELECT: sees no membership",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        expect(await visibleKeys(client)).toEqual([]);
      }),
    );

    it(
      "INSERT refused (cannot join A on their own); UPDATE and DELETE affect nothing",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        await expectSqlState(client, "42501", INSERT, [world.a.id, world.outsider.id]);
        await expectNoEffect(client, SET_ROLE, [world.a.id, world.a.members.viewer.id, "admin"]);
        await expectNoEffect(client, DELETE, [world.a.id, world.a.members.viewer.id]);
        expect(await roleOf(client, world.a.id, world.outsider.id)).toBeUndefined();
        expect(await roleOf(client, world.a.id, world.a.members.viewer.id)).toBe("viewer");
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "SELECT: sees no membership",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectNothingVisible(client, SELECT_ALL);
      }),
    );

    it(
      "INSERT, UPDATE, DELETE: refused",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectSqlState(client, "42501", INSERT, [world.a.id, world.outsider.id]);
        await expectSqlState(client, "42501", SET_ROLE, [world.a.id, world.a.members.viewer.id, "admin"]);
        await expectSqlState(client, "42501", DELETE, [world.a.id, world.a.members.viewer.id]);
      }),
    );
  });

  describe("an org_id claim for an organization the user does not belong to", () => {
    it(
      "shows only the caller's own memberships and changes nothing in that organization",
      inWorld(async (client, world) => {
        // Setup: A's admin presents a token naming B.
        await becomeUser(client, db.config, world.a.members.admin.id, world.b.id);
        // Action and assertions
        expect(await visibleKeys(client)).toEqual([key(world.a.id, world.a.members.admin.id)]);
        await expectNoEffect(client, SET_ROLE, [world.b.id, world.b.members.viewer.id, "admin"]);
        await expectNoEffect(client, DELETE, [world.b.id, world.b.members.viewer.id]);
        expect(await roleOf(client, world.b.id, world.b.members.viewer.id)).toBe("viewer");
      }),
    );
  });
});
