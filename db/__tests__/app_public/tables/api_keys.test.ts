/**
 * app_public.api_keys and the key as an actor: a valid key acts in its organization with its
 * role (current_org_role), never once revoked or expired or in another organization; only
 * people who are owners or admins see keys; nobody writes the table directly; the server's
 * check (app_private.authenticate_api_key) tells unknown, revoked, expired and valid apart;
 * and a key, even an admin one, changes no membership, invitation or organization.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createInvitation } from "../../helpers/factories.ts";
import {
  attempt,
  becomeRoot,
  becomeUser,
  expectSqlState,
  withRootDb,
  type Client,
} from "../../helpers/transactions.ts";
import { ACTOR_LABELS, actAs, createWorld, expectNoEffect, type Actor, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

type KeyRole = "admin" | "editor" | "viewer";
interface IssuedKey {
  id: string;
  token: string;
}
interface KeyWorld extends World {
  /** One key per role in A, created by A's owner. */
  keys: Record<KeyRole, IssuedKey>;
  /** An admin key of B, created by B's owner. */
  bKey: IssuedKey;
}

async function clearKeyClaim(client: Client): Promise<void> {
  await client.query("select set_config('jwt.claims.api_key_id', '', true)");
}

/** Creates a key the way createApiKey does: as a signed-in owner of the organization. */
async function issueKey(
  client: Client,
  userId: string,
  organizationId: string,
  role: KeyRole,
  name: string,
): Promise<IssuedKey> {
  await clearKeyClaim(client);
  await becomeUser(client, db.config, userId, organizationId);
  const { rows } = await client.query<IssuedKey>(
    "select k.api_key_id as id, k.token from app_hidden.create_api_key($1, $2) k",
    [name, role],
  );
  await becomeRoot(client);
  return rows[0]!;
}

/** The settings the server gives a request authenticated with an API key: no user, no session. */
async function becomeKey(client: Client, apiKeyId: string, organizationId: string): Promise<void> {
  await client.query("reset role");
  await client.query(
    `select set_config('role', $1, true), set_config('jwt.claims.user_id', '', true),
            set_config('jwt.claims.session_id', '', true), set_config('jwt.claims.org_id', $2, true),
            set_config('jwt.claims.api_key_id', $3, true)`,
    [db.config.roles.visitor, organizationId, apiKeyId],
  );
}

/** A person again (actAs does not know about the key claim). */
async function actAsPerson(client: Client, world: World, actor: Actor): Promise<void> {
  await becomeRoot(client);
  await clearKeyClaim(client);
  await actAs(client, db.config, world, actor);
}

/** Moves a key's life into the past so that it expired an hour ago (triggers off, as root). */
async function expire(client: Client, apiKeyId: string): Promise<void> {
  await becomeRoot(client);
  await client.query("set local session_replication_role = replica");
  await client.query(
    `update app_public.api_keys set created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
     where id = $1`,
    [apiKeyId],
  );
  await client.query("set local session_replication_role = origin");
}

async function revoke(client: Client, apiKeyId: string): Promise<void> {
  await becomeRoot(client);
  await client.query("update app_public.api_keys set revoked_at = now() where id = $1", [apiKeyId]);
}

function inWorld(fn: (client: Client, world: KeyWorld) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const owner = world.a.members.owner.id;
      const keys = {
        admin: await issueKey(client, owner, world.a.id, "admin", "Admin tool"),
        editor: await issueKey(client, owner, world.a.id, "editor", "Editor tool"),
        viewer: await issueKey(client, owner, world.a.id, "viewer", "Viewer tool"),
      };
      const bKey = await issueKey(client, world.b.members.owner.id, world.b.id, "admin", "B tool");
      await fn(client, { ...world, keys, bKey });
    });
}

const currentRole = async (client: Client) =>
  (await client.query<{ role: string | null }>("select app_hidden.current_org_role()::text as role")).rows[0]!.role;

const visibleKeyIds = async (client: Client) =>
  (await client.query<{ id: string }>("select id from app_public.api_keys")).rows.map((row) => row.id).sort();

describe("app_hidden.current_org_role() for a key", () => {
  it(
    "is the key's role in its organization, with no user",
    inWorld(async (client, world) => {
      for (const role of ["admin", "editor", "viewer"] as const) {
        await becomeKey(client, world.keys[role].id, world.a.id);
        expect(await currentRole(client), role).toBe(role);
        const { rows } = await client.query<{ user_id: string | null; key_id: string | null }>(
          "select app_hidden.current_user_id() as user_id, app_hidden.current_api_key_id() as key_id",
        );
        expect(rows[0]).toEqual({ user_id: null, key_id: world.keys[role].id });
      }
    }),
  );

  it(
    "is null once the key is revoked",
    inWorld(async (client, world) => {
      await revoke(client, world.keys.editor.id);
      await becomeKey(client, world.keys.editor.id, world.a.id);
      expect(await currentRole(client)).toBeNull();
      await becomeKey(client, world.keys.viewer.id, world.a.id);
      expect(await currentRole(client)).toBe("viewer");
    }),
  );

  it(
    "is null once the key has expired",
    inWorld(async (client, world) => {
      await expire(client, world.keys.admin.id);
      await becomeKey(client, world.keys.admin.id, world.a.id);
      expect(await currentRole(client)).toBeNull();
      await becomeKey(client, world.keys.editor.id, world.a.id);
      expect(await currentRole(client)).toBe("editor");
    }),
  );

  it(
    "is null when the organization claim names another organization than the key's",
    inWorld(async (client, world) => {
      await becomeKey(client, world.keys.admin.id, world.b.id);
      expect(await currentRole(client)).toBeNull();
      await becomeKey(client, world.bKey.id, world.a.id);
      expect(await currentRole(client)).toBeNull();
      // With a foreign organization claim, none of B's rows (nor A's) are readable.
      await becomeKey(client, world.keys.admin.id, world.b.id);
      const { rows } = await client.query("select id from app_public.organization_memberships");
      expect(rows).toEqual([]);
    }),
  );

  it(
    "is null for a key id that does not exist",
    inWorld(async (client, world) => {
      await becomeKey(client, "00000000-0000-4000-8000-000000000000", world.a.id);
      expect(await currentRole(client)).toBeNull();
    }),
  );
});

describe("app_public.api_keys: who sees keys", () => {
  for (const actor of ["owner", "admin"] as const satisfies readonly Actor[]) {
    it(
      `${ACTOR_LABELS[actor]} sees A's keys, none of B's`,
      inWorld(async (client, world) => {
        await actAsPerson(client, world, actor);
        expect(await visibleKeyIds(client)).toEqual(
          [world.keys.admin.id, world.keys.editor.id, world.keys.viewer.id].sort(),
        );
      }),
    );
  }

  for (const actor of ["editor", "viewer", "both", "outsider", "anonymous"] as const satisfies readonly Actor[]) {
    it(
      `${ACTOR_LABELS[actor]} sees no key`,
      inWorld(async (client, world) => {
        await actAsPerson(client, world, actor);
        const result = await attempt(client, "select id from app_public.api_keys");
        if (result.error !== null) expect(result.error).toBe("42501");
        else expect(result.rows).toEqual([]);
      }),
    );
  }

  it(
    "owner of B sees only B's key",
    inWorld(async (client, world) => {
      await actAsPerson(client, world, "otherOwner");
      expect(await visibleKeyIds(client)).toEqual([world.bKey.id]);
    }),
  );

  it(
    "a key, even an admin one, sees no key",
    inWorld(async (client, world) => {
      for (const role of ["admin", "editor", "viewer"] as const) {
        await becomeKey(client, world.keys[role].id, world.a.id);
        expect(await visibleKeyIds(client), role).toEqual([]);
      }
    }),
  );
});

describe("app_public.api_keys: no direct writes", () => {
  const INSERT =
    "insert into app_public.api_keys (organization_id, name, role, display_prefix) values ($1, 'Sneaky', 'admin', 'ipk_sneaky')";
  const UPDATE = "update app_public.api_keys set role = 'admin', revoked_at = null, expires_at = null where id = $1";
  const DELETE = "delete from app_public.api_keys where id = $1";

  const snapshot = async (client: Client) => {
    await becomeRoot(client);
    const { rows } = await client.query("select id, role, revoked_at, expires_at from app_public.api_keys order by id");
    return rows;
  };

  for (const actor of ["owner", "admin", "editor", "viewer", "anonymous"] as const satisfies readonly Actor[]) {
    it(
      `${ACTOR_LABELS[actor]} cannot insert, update or delete keys`,
      inWorld(async (client, world) => {
        const before = await snapshot(client);
        await actAsPerson(client, world, actor);
        await expectSqlState(client, "42501", INSERT, [world.a.id]);
        await expectNoEffect(client, UPDATE, [world.keys.viewer.id]);
        await expectNoEffect(client, DELETE, [world.keys.viewer.id]);
        expect(await snapshot(client)).toEqual(before);
      }),
    );
  }

  it(
    "a key cannot insert, update or delete keys (its own included)",
    inWorld(async (client, world) => {
      const before = await snapshot(client);
      await becomeKey(client, world.keys.admin.id, world.a.id);
      await expectSqlState(client, "42501", INSERT, [world.a.id]);
      for (const id of [world.keys.admin.id, world.keys.viewer.id]) {
        await expectNoEffect(client, UPDATE, [id]);
        await expectNoEffect(client, DELETE, [id]);
      }
      expect(await snapshot(client)).toEqual(before);
    }),
  );

  it(
    "nobody but the owner role reads the hashes",
    inWorld(async (client, world) => {
      for (const actor of ["owner", "admin"] as const) {
        await actAsPerson(client, world, actor);
        const result = await attempt(client, "select key_hash from app_private.api_key_hashes");
        if (result.error !== null) expect(result.error).toBe("42501");
        else expect(result.rows).toEqual([]);
      }
      await becomeKey(client, world.keys.admin.id, world.a.id);
      const byKey = await attempt(client, "select key_hash from app_private.api_key_hashes");
      if (byKey.error !== null) expect(byKey.error).toBe("42501");
      else expect(byKey.rows).toEqual([]);
    }),
  );
});

describe("creating and revoking keys in SQL", () => {
  it(
    "stores only the SHA-256 of the key; its clear text is nowhere in the tables",
    inWorld(async (client, world) => {
      const { token, id } = world.keys.editor;
      expect(token).toMatch(/^ipk_[A-Za-z0-9_-]{43}[0-9a-f]{6}$/);
      await becomeRoot(client);
      const hashes = await client.query(
        "select 1 from app_private.api_key_hashes where api_key_id = $1 and key_hash = public.digest($2, 'sha256')",
        [id, token],
      );
      expect(hashes.rowCount).toBe(1);
      const leaks = await client.query<{ n: number }>(
        `select (select count(*) from app_public.api_keys k where strpos(k::text, $1) > 0)
              + (select count(*) from app_private.api_key_hashes h where strpos(h::text, $1) > 0)
              + (select count(*) from app_public.audit_log a where strpos(a::text, $1) > 0) as n`,
        [token.slice(10)],
      );
      expect(Number(leaks.rows[0]!.n)).toBe(0);
      const { rows } = await client.query("select display_prefix from app_public.api_keys where id = $1", [id]);
      expect(rows[0]!.display_prefix).toBe(token.slice(0, 10));
    }),
  );

  it(
    "refuses editors and viewers (IPF01), the owner role (IPV01), and keys (IPF05)",
    inWorld(async (client, world) => {
      for (const actor of ["editor", "viewer"] as const) {
        await actAsPerson(client, world, actor);
        await expectSqlState(client, "IPF01", "select app_hidden.create_api_key('x', 'viewer')");
        await expectSqlState(client, "IPF01", "select app_public.revoke_api_key($1)", [world.keys.viewer.id]);
      }
      await actAsPerson(client, world, "owner");
      await expectSqlState(client, "IPV01", "select app_hidden.create_api_key('x', 'owner')");
      await becomeKey(client, world.keys.admin.id, world.a.id);
      await expectSqlState(client, "IPF05", "select app_hidden.create_api_key('x', 'viewer')");
      await expectSqlState(client, "IPF05", "select app_public.revoke_api_key($1)", [world.keys.viewer.id]);
      await becomeRoot(client);
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from app_public.api_keys where name = 'x' or revoked_at is not null",
      );
      expect(rows[0]!.n).toBe(0);
    }),
  );

  it(
    "revoke_api_key: an admin revokes a key of A, not one of B (IPN01)",
    inWorld(async (client, world) => {
      await actAsPerson(client, world, "admin");
      await expectSqlState(client, "IPN01", "select app_public.revoke_api_key($1)", [world.bKey.id]);
      const { rows } = await client.query<{ revoked: boolean }>(
        "select (app_public.revoke_api_key($1)).revoked_at is not null as revoked",
        [world.keys.viewer.id],
      );
      expect(rows[0]!.revoked).toBe(true);
      await becomeRoot(client);
      const states = await client.query<{ id: string; revoked: boolean }>(
        "select id, revoked_at is not null as revoked from app_public.api_keys where id = any($1)",
        [[world.bKey.id, world.keys.viewer.id]],
      );
      expect(Object.fromEntries(states.rows.map((row) => [row.id, row.revoked]))).toEqual({
        [world.bKey.id]: false,
        [world.keys.viewer.id]: true,
      });
    }),
  );
});

describe("app_private.authenticate_api_key", () => {
  interface Check {
    api_key_id: string | null;
    organization_id: string | null;
    role: string | null;
    state: string;
  }
  /** As the server calls it: as the owner role, outside any request claims. */
  const authenticate = async (client: Client, token: string | null) => {
    await becomeRoot(client);
    await clearKeyClaim(client);
    await client.query("select set_config('jwt.claims.org_id', '', true)");
    await client.query("select set_config('role', $1, true)", [db.config.roles.owner]);
    const { rows } = await client.query<Check>(
      "select api_key_id, organization_id, role::text, state from app_private.authenticate_api_key($1)",
      [token],
    );
    await becomeRoot(client);
    return rows;
  };

  it(
    "answers valid with the key, its organization and role, and marks it used",
    inWorld(async (client, world) => {
      const { id, token } = world.keys.editor;
      expect(await authenticate(client, token)).toEqual([
        { api_key_id: id, organization_id: world.a.id, role: "editor", state: "valid" },
      ]);
      expect(await authenticate(client, world.bKey.token)).toEqual([
        { api_key_id: world.bKey.id, organization_id: world.b.id, role: "admin", state: "valid" },
      ]);
      const { rows } = await client.query<{ used: boolean; other: boolean }>(
        `select (select last_used_at is not null from app_public.api_keys where id = $1) as used,
                (select last_used_at is not null from app_public.api_keys where id = $2) as other`,
        [id, world.keys.viewer.id],
      );
      expect(rows[0]).toEqual({ used: true, other: false });
    }),
  );

  it(
    "answers unknown for a well-formed key nobody issued, an empty token and null",
    inWorld(async (client, world) => {
      const unknown = world.keys.editor.token.slice(0, -12) + "AAAAAA" + world.keys.editor.token.slice(-6);
      for (const token of [unknown, "", null]) {
        expect(await authenticate(client, token)).toEqual([
          { api_key_id: null, organization_id: null, role: null, state: "unknown" },
        ]);
      }
    }),
  );

  it(
    "answers revoked for a revoked key, expired for an expired one, and does not mark them used",
    inWorld(async (client, world) => {
      await revoke(client, world.keys.viewer.id);
      await expire(client, world.keys.admin.id);
      expect(await authenticate(client, world.keys.viewer.token)).toEqual([
        { api_key_id: world.keys.viewer.id, organization_id: world.a.id, role: "viewer", state: "revoked" },
      ]);
      expect(await authenticate(client, world.keys.admin.token)).toEqual([
        { api_key_id: world.keys.admin.id, organization_id: world.a.id, role: "admin", state: "expired" },
      ]);
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from app_public.api_keys where id = any($1) and last_used_at is not null",
        [[world.keys.viewer.id, world.keys.admin.id]],
      );
      expect(rows[0]!.n).toBe(0);
    }),
  );

  it(
    "is not for visitors",
    inWorld(async (client, world) => {
      await actAsPerson(client, world, "owner");
      await expectSqlState(client, "42501", "select * from app_private.authenticate_api_key($1)", [
        world.keys.viewer.token,
      ]);
    }),
  );
});

describe("a key calling role-checked functions", () => {
  const postUpdate = async (client: Client, incidentId: string) =>
    attempt<{ author_user_id: string | null; author_api_key_id: string | null }>(
      client,
      `select (u).author_user_id, (u).author_api_key_id
       from (select app_public.post_incident_update($1, 'identified', 'Found it.') as u) x`,
      [incidentId],
    );

  const incident = async (client: Client, world: KeyWorld) => {
    await becomeRoot(client);
    const { rows } = await client.query<{ id: string }>(
      "insert into app_public.incidents (organization_id, title) values ($1, 'Keyed') returning id",
      [world.a.id],
    );
    return rows[0]!.id;
  };

  it(
    "a viewer key is refused post_incident_update",
    inWorld(async (client, world) => {
      const incidentId = await incident(client, world);
      await becomeKey(client, world.keys.viewer.id, world.a.id);
      const result = await postUpdate(client, incidentId);
      expect(["IPF01", "IPF05"]).toContain(result.error);
    }),
  );

  it(
    "an editor key posts an incident update, as its author",
    inWorld(async (client, world) => {
      const incidentId = await incident(client, world);
      await becomeKey(client, world.keys.editor.id, world.a.id);
      const result = await postUpdate(client, incidentId);
      expect(result.error).toBeNull();
      expect(result.rows).toEqual([{ author_user_id: null, author_api_key_id: world.keys.editor.id }]);
    }),
  );
});

describe("a key changes no membership, invitation or organization", () => {
  it(
    "even as admin: direct updates and deletes match no row",
    inWorld(async (client, world) => {
      const invitation = await createInvitation(client, world.a.id, "pending@example.com", "editor");
      const snapshot = async () => {
        await becomeRoot(client);
        const { rows } = await client.query(
          `select (select json_agg(m.role order by m.id) from app_public.organization_memberships m where m.organization_id = $1) as roles,
                  (select revoked_at from app_public.organization_invitations where id = $2) as revoked_at,
                  (select name from app_public.organizations where id = $1) as name`,
          [world.a.id, invitation.id],
        );
        return rows[0];
      };
      const before = await snapshot();
      await becomeKey(client, world.keys.admin.id, world.a.id);
      // The key does act as an admin elsewhere: it reads the organization's members.
      const members = await client.query("select id from app_public.organization_memberships");
      expect(members.rowCount).toBeGreaterThan(0);
      await expectNoEffect(
        client,
        "update app_public.organization_memberships set role = 'viewer' where organization_id = $1 and user_id = $2",
        [world.a.id, world.a.members.editor.id],
      );
      await expectNoEffect(
        client,
        "delete from app_public.organization_memberships where organization_id = $1 and user_id = $2",
        [world.a.id, world.a.members.viewer.id],
      );
      await expectNoEffect(
        client,
        "update app_public.organization_invitations set revoked_at = now() where organization_id = $1 and id = $2",
        [world.a.id, invitation.id],
      );
      await expectNoEffect(client, "update app_public.organizations set name = 'Renamed by a key' where id = $1", [
        world.a.id,
      ]);
      await expectNoEffect(client, "delete from app_public.organizations where id = $1", [world.a.id]);
      expect(await snapshot()).toEqual(before);

      // The same statements by a person who is admin do change things (the refusal is the key's).
      await actAsPerson(client, world, "admin");
      const renamed = await attempt(client, "update app_public.organizations set name = 'Renamed' where id = $1", [
        world.a.id,
      ]);
      expect([renamed.error, renamed.rowCount]).toEqual([null, 1]);
    }),
  );

  it(
    "member-management functions answer IPF05",
    inWorld(async (client, world) => {
      const invitation = await createInvitation(client, world.a.id, "pending@example.com", "editor");
      await becomeKey(client, world.keys.admin.id, world.a.id);
      await expectSqlState(client, "IPF05", "select app_hidden.invite_member('new@example.com', 'viewer')");
      await expectSqlState(client, "IPF05", "select app_public.change_member_role($1, 'viewer')", [
        world.a.members.editor.id,
      ]);
      await expectSqlState(client, "IPF05", "select app_public.remove_member($1)", [world.a.members.viewer.id]);
      await expectSqlState(client, "IPF05", "select app_public.revoke_invitation($1)", [invitation.id]);
      await expectSqlState(client, "IPF05", "select app_public.create_organization('Keyed', 'keyed-org')");
      await becomeRoot(client);
      const { rows } = await client.query<{ invitations: number; slug: number }>(
        `select (select count(*)::int from app_public.organization_invitations where email = 'new@example.com') as invitations,
                (select count(*)::int from app_public.organizations where slug = 'keyed-org') as slug`,
      );
      expect(rows[0]).toEqual({ invitations: 0, slug: 0 });
    }),
  );

  it(
    "its writes elsewhere are attributed to the key in the audit log and the timeline",
    inWorld(async (client, world) => {
      await becomeKey(client, world.keys.editor.id, world.a.id);
      const incident = await client.query<{ id: string }>(
        "insert into app_public.incidents (title) values ('Keyed incident') returning id",
      );
      const incidentId = incident.rows[0]!.id;
      await becomeRoot(client);
      const { rows } = await client.query(
        `select actor_user_id, actor_api_key_id from app_public.audit_log
         where target_table = 'incidents' and target_id = $1 and action = 'insert'`,
        [incidentId],
      );
      expect(rows).toEqual([{ actor_user_id: null, actor_api_key_id: world.keys.editor.id }]);
    }),
  );
});
