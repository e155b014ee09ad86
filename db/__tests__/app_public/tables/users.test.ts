/**
 * app_public.users, table access per actor: users see themselves and the members of their
 * active organization; they rename only themselves; nobody inserts or deletes directly.
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
  resumeRole,
  sorted,
  userOf,
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

const SELECT_ALL = "select id from app_public.users";
const RENAME = "update app_public.users set name = $2 where id = $1";

function inWorld(fn: (client: Client, world: World) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      await fn(client, await createWorld(client));
    });
}

const membersOf = (organization: World["a"], ...extra: string[]) =>
  sorted([...Object.values(organization.members).map((member) => member.id), ...extra]);

async function nameOf(client: Client, userId: string): Promise<string> {
  await becomeRoot(client);
  const { rows } = await client.query<{ name: string }>("select name from app_public.users where id = $1", [userId]);
  return rows[0]!.name;
}

const A_MEMBERS: Actor[] = ["owner", "admin", "editor", "viewer"];

describe("app_public.users", () => {
  for (const actor of A_MEMBERS) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "SELECT: sees every member of A (themselves included) and nobody else",
        inWorld(async (client, world) => {
          // Action
          await actAs(client, db.config, world, actor);
          const visible = await ids(client, SELECT_ALL);
          // Assertions
          expect(visible).toEqual(membersOf(world.a, world.both.id));
        }),
      );

      it(
        "UPDATE: renames themselves",
        inWorld(async (client, world) => {
          const self = userOf(world, actor)!;
          await actAs(client, db.config, world, actor);
          await expectRowCount(client, 1, RENAME, [self.id, "Renamed"]);
          expect(await nameOf(client, self.id)).toBe("Renamed");
        }),
      );

      it(
        "UPDATE: cannot rename a colleague (0 rows)",
        inWorld(async (client, world) => {
          const colleague = actor === "viewer" ? world.a.members.owner : world.a.members.viewer;
          await actAs(client, db.config, world, actor);
          await expectNoEffect(client, RENAME, [colleague.id, "Hijacked"]);
          expect(await nameOf(client, colleague.id)).not.toBe("Hijacked");
        }),
      );

      it(
        "UPDATE: cannot change their own email (column not granted)",
        inWorld(async (client, world) => {
          const self = userOf(world, actor)!;
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "42501", "update app_public.users set email = 'x@example.com' where id = $1", [
            self.id,
          ]);
        }),
      );

      it(
        "INSERT and DELETE: refused",
        inWorld(async (client, world) => {
          const self = userOf(world, actor)!;
          await actAs(client, db.config, world, actor);
          await expectSqlState(
            client,
            "42501",
            "insert into app_public.users (email, name) values ('new@example.com', 'New')",
          );
          await expectSqlState(client, "42501", "delete from app_public.users where id = $1", [self.id]);
        }),
      );
    });
  }

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "SELECT: sees B's members, none of A's",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        const visible = await ids(client, SELECT_ALL);
        // `both` belongs to B as well, so it is B's member too.
        expect(visible).toEqual(membersOf(world.b, world.both.id));
        expect(await ids(client, "select id from app_public.users where id = $1", [world.a.members.owner.id])).toEqual(
          [],
        );
      }),
    );

    it(
      "UPDATE/DELETE of A's users affect nothing",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        await expectNoEffect(client, RENAME, [world.a.members.viewer.id, "Hijacked"]);
        await expectNoEffect(client, "delete from app_public.users where id = $1", [world.a.members.viewer.id]);
        expect(await nameOf(client, world.a.members.viewer.id)).not.toBe("Hijacked");
      }),
    );
  });

  describe(ACTOR_LABELS.both, () => {
    it(
      "SELECT: sees A's members only, not B's, although they belong to B",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        const visible = await ids(client, SELECT_ALL);
        expect(visible).toEqual(membersOf(world.a, world.both.id));
        expect(visible).not.toContain(world.b.members.viewer.id);
      }),
    );

    it(
      "UPDATE: cannot rename a member of B",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        await expectNoEffect(client, RENAME, [world.b.members.viewer.id, "Hijacked"]);
        expect(await nameOf(client, world.b.members.viewer.id)).not.toBe("Hijacked");
      }),
    );
  });

  describe(ACTOR_LABELS.outsider, () => {
    it(
      "SELECT: sees only themselves",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        expect(await ids(client, SELECT_ALL)).toEqual([world.outsider.id]);
      }),
    );

    it(
      "UPDATE: renames themselves, nobody else",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "outsider");
        await expectRowCount(client, 1, RENAME, [world.outsider.id, "Renamed"]);
        await expectNoEffect(client, RENAME, [world.a.members.owner.id, "Hijacked"]);
        expect(await nameOf(client, world.outsider.id)).toBe("Renamed");
        expect(await nameOf(client, world.a.members.owner.id)).not.toBe("Hijacked");
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "SELECT: sees nobody",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectNothingVisible(client, SELECT_ALL);
      }),
    );

    it(
      "INSERT, UPDATE, DELETE: refused",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectSqlState(
          client,
          "42501",
          "insert into app_public.users (email, name) values ('anon@example.com', 'Anon')",
        );
        await expectSqlState(client, "42501", RENAME, [world.a.members.owner.id, "Hijacked"]);
        await expectSqlState(client, "42501", "delete from app_public.users where id = $1", [world.a.members.owner.id]);
      }),
    );
  });

  describe("an org_id claim for an organization the user does not belong to", () => {
    it(
      "shows none of that organization's users, only the caller",
      inWorld(async (client, world) => {
        // Setup: A's viewer presents a token naming B.
        await becomeUser(client, db.config, world.a.members.viewer.id, world.b.id);
        // Action
        const visible = await ids(client, SELECT_ALL);
        // Assertions
        expect(visible).toEqual([world.a.members.viewer.id]);
      }),
    );
  });

  describe("a revoked session", () => {
    it(
      "sees nobody, not even itself",
      inWorld(async (client, world) => {
        const sessionId = await becomeUser(client, db.config, world.a.members.owner.id, world.a.id);
        await becomeRoot(client);
        await client.query("update app_private.sessions set revoked_at = now() where id = $1", [sessionId]);
        await resumeRole(client, db.config.roles.visitor);
        expect(await ids(client, SELECT_ALL)).toEqual([]);
      }),
    );
  });
});
