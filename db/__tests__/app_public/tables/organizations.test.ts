/**
 * app_public.organizations, table access per actor: visible to its members only; name and
 * slug changed by admins and owners of the active organization; plan and billing status by
 * no visitor at all; deleted by an owner only; never inserted directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { becomeRoot, becomeUser, expectSqlState, withRootDb, type Client } from "../../helpers/transactions.ts";
import {
  ACTOR_LABELS,
  actAs,
  createWorld,
  expectNoEffect,
  expectNothingVisible,
  expectRowCount,
  ids,
  sorted,
  type Actor,
  type World,
} from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const SELECT_ALL = "select id from app_public.organizations";
const RENAME = "update app_public.organizations set name = $2 where id = $1";
const RESLUG = "update app_public.organizations set slug = $2 where id = $1";
const DELETE = "delete from app_public.organizations where id = $1";
const INSERT = "insert into app_public.organizations (name, slug) values ('Sneaky', 'sneaky')";

function inWorld(fn: (client: Client, world: World) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await createWorld(client));
    });
}

interface OrganizationRow {
  id: string;
  name: string;
  slug: string;
  plan: string;
  billing_status: string;
}

/** The organization as root sees it (undefined once deleted). */
async function organization(client: Client, id: string): Promise<OrganizationRow | undefined> {
  await becomeRoot(client);
  const { rows } = await client.query<OrganizationRow>(
    "select id, name, slug, plan::text, billing_status::text from app_public.organizations where id = $1",
    [id],
  );
  return rows[0];
}

describe("app_public.organizations", () => {
  for (const actor of ["owner", "admin", "editor", "viewer"] as const satisfies readonly Actor[]) {
    const mayManage = actor === "owner" || actor === "admin";

    describe(ACTOR_LABELS[actor], () => {
      it(
        "SELECT: sees A only",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          expect(await ids(client, SELECT_ALL)).toEqual([world.a.id]);
        }),
      );

      it(
        mayManage ? "UPDATE: renames A and changes its slug" : "UPDATE: cannot rename A (0 rows)",
        inWorld(async (client, world) => {
          // Setup
          const newSlug = `renamed-${actor}`;
          await actAs(client, db.config, world, actor);
          // Action
          await expectRowCount(client, mayManage ? 1 : 0, RENAME, [world.a.id, "Renamed"]);
          await expectRowCount(client, mayManage ? 1 : 0, RESLUG, [world.a.id, newSlug]);
          // Assertions
          const after = await organization(client, world.a.id);
          if (mayManage) expect([after!.name, after!.slug]).toEqual(["Renamed", newSlug]);
          else expect([after!.name, after!.slug]).toEqual(["Alpha", world.a.slug]);
        }),
      );

      it(
        "UPDATE: can never change plan or billing_status (column not granted)",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(
            client,
            "42501",
            "update app_public.organizations set plan = 'enterprise' where id = $1",
            [world.a.id],
          );
          await expectSqlState(
            client,
            "42501",
            "update app_public.organizations set billing_status = 'active' where id = $1",
            [world.a.id],
          );
          const after = await organization(client, world.a.id);
          expect([after!.plan, after!.billing_status]).toEqual(["free", "none"]);
        }),
      );

      it(
        "INSERT: refused (organizations are created through create_organization)",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "42501", INSERT);
        }),
      );

      it(
        "DELETE: cannot delete A directly (owners request deletion; the worker deletes after the grace period)",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "42501", DELETE, [world.a.id]);
          expect((await organization(client, world.a.id))?.id).toBe(world.a.id);
        }),
      );

      it(
        "cannot touch B at all",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          expect(await ids(client, "select id from app_public.organizations where id = $1", [world.b.id])).toEqual([]);
          await expectNoEffect(client, RENAME, [world.b.id, "Hijacked"]);
          await expectNoEffect(client, DELETE, [world.b.id]);
          expect((await organization(client, world.b.id))?.name).toBe("Bravo");
        }),
      );
    });
  }

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "SELECT: sees B only",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        expect(await ids(client, SELECT_ALL)).toEqual([world.b.id]);
      }),
    );

    it(
      "UPDATE and DELETE of A affect nothing",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        await expectNoEffect(client, RENAME, [world.a.id, "Hijacked"]);
        await expectNoEffect(client, RESLUG, [world.a.id, "hijacked"]);
        await expectNoEffect(client, DELETE, [world.a.id]);
        const after = await organization(client, world.a.id);
        expect([after?.name, after?.slug]).toEqual(["Alpha", world.a.slug]);
      }),
    );
  });

  describe(ACTOR_LABELS.both, () => {
    it(
      "SELECT: sees both organizations they belong to",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        expect(await ids(client, SELECT_ALL)).toEqual(sorted([world.a.id, world.b.id]));
      }),
    );

    it(
      "UPDATE and DELETE of B, which they own, affect nothing while acting in A",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectNoEffect(client, RENAME, [world.b.id, "Hijacked"]);
        await expectNoEffect(client, DELETE, [world.b.id]);
        expect((await organization(client, world.b.id))?.name).toBe("Bravo");
      }),
    );

    it(
      "UPDATE of A, where they are an editor, affects nothing",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectNoEffect(client, RENAME, [world.a.id, "Hijacked"]);
        expect((await organization(client, world.a.id))?.name).toBe("Alpha");
      }),
    );
  });

  describe(ACTOR_LABELS.outsider, () => {
    it(
      "SELECT: sees no organization",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        expect(await ids(client, SELECT_ALL)).toEqual([]);
      }),
    );

    it(
      "INSERT refused; UPDATE and DELETE affect nothing",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        await expectSqlState(client, "42501", INSERT);
        await expectNoEffect(client, RENAME, [world.a.id, "Hijacked"]);
        await expectNoEffect(client, DELETE, [world.a.id]);
        expect((await organization(client, world.a.id))?.name).toBe("Alpha");
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "SELECT: sees no organization",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectNothingVisible(client, SELECT_ALL);
      }),
    );

    it(
      "INSERT, UPDATE, DELETE: refused",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectSqlState(client, "42501", INSERT);
        await expectSqlState(client, "42501", RENAME, [world.a.id, "Hijacked"]);
        await expectSqlState(client, "42501", DELETE, [world.a.id]);
      }),
    );
  });

  describe("an org_id claim for an organization the user does not belong to", () => {
    it(
      "neither shows nor lets the caller change or delete it, even an owner elsewhere",
      inWorld(async (client, world) => {
        // Setup: A's owner presents a token naming B.
        await becomeUser(client, db.config, world.a.members.owner.id, world.b.id);
        // Action and assertions
        expect(await ids(client, SELECT_ALL)).toEqual([world.a.id]);
        await expectNoEffect(client, RENAME, [world.b.id, "Hijacked"]);
        await expectNoEffect(client, DELETE, [world.b.id]);
        // Nor does it act in A, which the token does not name.
        await expectNoEffect(client, RENAME, [world.a.id, "Renamed"]);
        expect((await organization(client, world.b.id))?.name).toBe("Bravo");
        expect((await organization(client, world.a.id))?.name).toBe("Alpha");
      }),
    );
  });
});
