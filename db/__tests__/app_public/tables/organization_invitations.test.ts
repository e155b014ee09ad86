/**
 * app_public.organization_invitations, table access per actor: only admins and owners of the
 * active organization see its invitations and may revoke them (revoked_at is the one column
 * they may write); nobody inserts or deletes directly (invite_member does that).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createInvitation } from "../../helpers/factories.ts";
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

interface InvitationWorld extends World {
  /** Two pending invitations per organization. */
  invitations: { a: string[]; b: string[] };
}

const SELECT_ALL = "select id from app_public.organization_invitations";
const REVOKE =
  "update app_public.organization_invitations set revoked_at = now() where organization_id = $1 and id = $2";
const DELETE = "delete from app_public.organization_invitations where organization_id = $1 and id = $2";
const INSERT =
  "insert into app_public.organization_invitations (organization_id, email, role) values ($1, 'sneaky@example.com', 'owner')";

function inWorld(fn: (client: Client, world: InvitationWorld) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const invite = async (organizationId: string, email: string) =>
        (await createInvitation(client, organizationId, email, "editor")).id;
      const invitations = {
        a: [await invite(world.a.id, "a1@example.com"), await invite(world.a.id, "a2@example.com")],
        b: [await invite(world.b.id, "b1@example.com"), await invite(world.b.id, "b2@example.com")],
      };
      await fn(client, { ...world, invitations });
    });
}

/** Whether root sees the invitation as revoked. */
async function isRevoked(client: Client, invitationId: string): Promise<boolean> {
  await becomeRoot(client);
  const { rows } = await client.query<{ revoked: boolean }>(
    "select revoked_at is not null as revoked from app_public.organization_invitations where id = $1",
    [invitationId],
  );
  return rows[0]!.revoked;
}

async function invitationCount(client: Client): Promise<number> {
  await becomeRoot(client);
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from app_public.organization_invitations",
  );
  return rows[0]!.n;
}

describe("app_public.organization_invitations", () => {
  for (const actor of ["owner", "admin"] as const satisfies readonly Actor[]) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "SELECT: sees A's invitations, none of B's",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          expect(await ids(client, SELECT_ALL)).toEqual(sorted(world.invitations.a));
        }),
      );

      it(
        "UPDATE: revokes one of A's invitations",
        inWorld(async (client, world) => {
          const [target] = world.invitations.a;
          await actAs(client, db.config, world, actor);
          await expectRowCount(client, 1, REVOKE, [world.a.id, target]);
          expect(await isRevoked(client, target!)).toBe(true);
        }),
      );

      it(
        "UPDATE: cannot change an invitation's email or role (columns not granted)",
        inWorld(async (client, world) => {
          const [target] = world.invitations.a;
          await actAs(client, db.config, world, actor);
          await expectSqlState(
            client,
            "42501",
            "update app_public.organization_invitations set email = 'me@example.com' where id = $1",
            [target],
          );
          await expectSqlState(
            client,
            "42501",
            "update app_public.organization_invitations set role = 'owner' where id = $1",
            [target],
          );
        }),
      );

      it(
        "INSERT and DELETE: refused",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "42501", INSERT, [world.a.id]);
          await expectSqlState(client, "42501", DELETE, [world.a.id, world.invitations.a[0]]);
          expect(await invitationCount(client)).toBe(4);
        }),
      );

      it(
        "cannot revoke B's invitations (0 rows)",
        inWorld(async (client, world) => {
          const [target] = world.invitations.b;
          await actAs(client, db.config, world, actor);
          await expectNoEffect(client, REVOKE, [world.b.id, target]);
          expect(await isRevoked(client, target!)).toBe(false);
        }),
      );
    });
  }

  for (const actor of ["editor", "viewer"] as const satisfies readonly Actor[]) {
    describe(ACTOR_LABELS[actor], () => {
      it(
        "SELECT: sees no invitation",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          expect(await ids(client, SELECT_ALL)).toEqual([]);
        }),
      );

      it(
        "UPDATE: cannot revoke A's invitations (0 rows)",
        inWorld(async (client, world) => {
          const [target] = world.invitations.a;
          await actAs(client, db.config, world, actor);
          await expectNoEffect(client, REVOKE, [world.a.id, target]);
          expect(await isRevoked(client, target!)).toBe(false);
        }),
      );

      it(
        "INSERT and DELETE: refused",
        inWorld(async (client, world) => {
          await actAs(client, db.config, world, actor);
          await expectSqlState(client, "42501", INSERT, [world.a.id]);
          await expectSqlState(client, "42501", DELETE, [world.a.id, world.invitations.a[0]]);
          expect(await invitationCount(client)).toBe(4);
        }),
      );
    });
  }

  describe(ACTOR_LABELS.otherOwner, () => {
    it(
      "SELECT: sees B's invitations, none of A's",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "otherOwner");
        expect(await ids(client, SELECT_ALL)).toEqual(sorted(world.invitations.b));
      }),
    );

    it(
      "UPDATE of A's invitations affects nothing; INSERT into A and DELETE refused",
      inWorld(async (client, world) => {
        const [target] = world.invitations.a;
        await actAs(client, db.config, world, "otherOwner");
        await expectNoEffect(client, REVOKE, [world.a.id, target]);
        await expectSqlState(client, "42501", INSERT, [world.a.id]);
        await expectSqlState(client, "42501", DELETE, [world.a.id, target]);
        expect(await isRevoked(client, target!)).toBe(false);
      }),
    );
  });

  describe(ACTOR_LABELS.both, () => {
    it(
      "SELECT: sees no invitation, neither A's (editor there) nor B's (owner there, but not acting in B)",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "both");
        expect(await ids(client, SELECT_ALL)).toEqual([]);
      }),
    );

    it(
      "UPDATE: cannot revoke B's invitations while acting in A",
      inWorld(async (client, world) => {
        const [target] = world.invitations.b;
        await actAs(client, db.config, world, "both");
        await expectNoEffect(client, REVOKE, [world.b.id, target]);
        expect(await isRevoked(client, target!)).toBe(false);
      }),
    );
  });

  describe(ACTOR_LABELS.outsider, () => {
    it(
      "SELECT: sees no invitation; UPDATE affects nothing",
      inWorld(async (client, world) => {
        const [target] = world.invitations.a;
        await actAs(client, db.config, world, "outsider");
        expect(await ids(client, SELECT_ALL)).toEqual([]);
        await expectNoEffect(client, REVOKE, [world.a.id, target]);
        expect(await isRevoked(client, target!)).toBe(false);
      }),
    );
  });

  describe(ACTOR_LABELS.anonymous, () => {
    it(
      "SELECT: sees no invitation",
      inWorld(async (client, world) => {
        await actAs(client, db.config, world, "anonymous");
        await expectNothingVisible(client, SELECT_ALL);
      }),
    );

    it(
      "INSERT, UPDATE, DELETE: refused",
      inWorld(async (client, world) => {
        const [target] = world.invitations.a;
        await actAs(client, db.config, world, "anonymous");
        await expectSqlState(client, "42501", INSERT, [world.a.id]);
        await expectSqlState(client, "42501", REVOKE, [world.a.id, target]);
        await expectSqlState(client, "42501", DELETE, [world.a.id, target]);
        expect(await isRevoked(client, target!)).toBe(false);
      }),
    );
  });

  describe("an org_id claim for an organization the user does not belong to", () => {
    it(
      "shows none of its invitations and revokes none, even for an owner elsewhere",
      inWorld(async (client, world) => {
        // Setup: A's owner presents a token naming B.
        const [target] = world.invitations.b;
        await becomeUser(client, db.config, world.a.members.owner.id, world.b.id);
        // Action and assertions
        expect(await ids(client, SELECT_ALL)).toEqual([]);
        await expectNoEffect(client, REVOKE, [world.b.id, target]);
        expect(await isRevoked(client, target!)).toBe(false);
      }),
    );
  });
});
