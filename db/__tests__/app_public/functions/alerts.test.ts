/**
 * Inbound alerts in the database: an alert source acts as an editor of its organization while
 * it is enabled (and as nothing otherwise, or anywhere else); app_hidden.receive_alerts opens,
 * updates and resolves incidents as its caller, without counting an alert as someone
 * acknowledging; idempotency keys refuse another body; the sealed secrets and the request log
 * stay out of the API roles' reach.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import {
  attempt,
  becomeRoot,
  becomeUser,
  expectSqlState,
  withRootDb,
  type Client,
} from "../../helpers/transactions.ts";
import { createWorld, type World } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface AlertWorld extends World {
  /** A source of A, and one of B. */
  source: string;
  bSource: string;
}

/** Creates a source the way createAlertSource does: an admin's insert, then the sealed secret. */
async function createSource(client: Client, userId: string, organizationId: string, name: string): Promise<string> {
  await becomeUser(client, db.config, userId, organizationId);
  const { rows } = await client.query<{ id: string }>(
    "insert into app_public.alert_sources (name) values ($1) returning id",
    [name],
  );
  await client.query("select 1 from app_hidden.set_alert_source_secret($1, '\\x01'::bytea, 'ipas_…abcd')", [
    rows[0]!.id,
  ]);
  await becomeRoot(client);
  return rows[0]!.id;
}

/** The settings the server gives a hook request that proved the source's secret. */
async function becomeSource(client: Client, sourceId: string, organizationId: string): Promise<void> {
  await client.query("reset role");
  await client.query(
    `select set_config('role', $1, true), set_config('jwt.claims.user_id', '', true),
            set_config('jwt.claims.session_id', '', true), set_config('jwt.claims.api_key_id', '', true),
            set_config('jwt.claims.org_id', $2, true), set_config('jwt.claims.alert_source_id', $3, true)`,
    [db.config.roles.visitor, organizationId, sourceId],
  );
}

async function clearSourceClaim(client: Client): Promise<void> {
  await client.query("select set_config('jwt.claims.alert_source_id', '', true)");
}

function inWorld(fn: (client: Client, world: AlertWorld) => Promise<void>) {
  return () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      const source = await createSource(client, world.a.members.admin.id, world.a.id, "Prometheus");
      const bSource = await createSource(client, world.b.members.owner.id, world.b.id, "Bravo's Grafana");
      await fn(client, { ...world, source, bSource });
    });
}

const currentRole = async (client: Client) =>
  (await client.query<{ role: string | null }>("select app_hidden.current_org_role()::text as role")).rows[0]!.role;

const alert = (fingerprint: string, status = "firing", severity = "high") =>
  JSON.stringify([
    { fingerprint, status, title: `Alert ${fingerprint}`, severity, service: null, message: null, occurred_at: null },
  ]);

const receive = async (client: Client, sourceId: string, alerts: string) =>
  (
    await client.query<{ summary: { incidents: { id: string; action: string }[] } }>(
      "select app_hidden.receive_alerts($1, $2::jsonb) as summary",
      [sourceId, alerts],
    )
  ).rows[0]!.summary;

describe("the alert source as an actor", () => {
  it(
    "is an editor of its organization while enabled, with no user and no key",
    inWorld(async (client, world) => {
      await becomeSource(client, world.source, world.a.id);
      expect(await currentRole(client)).toBe("editor");
      const { rows } = await client.query(
        "select app_hidden.current_user_id() as user_id, app_hidden.current_api_key_id() as key_id",
      );
      expect(rows[0]).toEqual({ user_id: null, key_id: null });
    }),
  );

  it(
    "is nothing once disabled, in another organization, or named with another organization's id",
    inWorld(async (client, world) => {
      await becomeSource(client, world.bSource, world.a.id);
      expect(await currentRole(client)).toBeNull();
      await becomeSource(client, world.source, world.b.id);
      expect(await currentRole(client)).toBeNull();
      await becomeRoot(client);
      await client.query("update app_public.alert_sources set enabled = false where id = $1", [world.source]);
      await becomeSource(client, world.source, world.a.id);
      expect(await currentRole(client)).toBeNull();
      await expectSqlState(client, "IPA01", "select app_hidden.receive_alerts($1, $2::jsonb)", [
        world.source,
        alert("x"),
      ]);
    }),
  );

  it(
    "manages no source and reads no request log",
    inWorld(async (client, world) => {
      await becomeSource(client, world.source, world.a.id);
      await expectSqlState(client, "IPA01", "select app_hidden.set_alert_source_secret($1, '\\x02'::bytea, 'x')", [
        world.source,
      ]);
      const changed = await attempt(client, "update app_public.alert_sources set enabled = false where id = $1", [
        world.source,
      ]);
      expect(changed.rowCount).toBe(0);
      await becomeRoot(client);
      await client.query(
        `select app_private.record_alert_request($1, $2, true, 'ACCEPTED', 202, 1, '{}', 'signature', null, null, '127.0.0.1', '{}')`,
        [world.a.id, world.source],
      );
      await becomeSource(client, world.source, world.a.id);
      expect((await client.query("select 1 from app_public.alert_requests")).rowCount).toBe(0);
      await clearSourceClaim(client);
      await becomeUser(client, db.config, world.a.members.admin.id, world.a.id);
      expect((await client.query("select 1 from app_public.alert_requests")).rowCount).toBe(1);
      await becomeUser(client, db.config, world.a.members.editor.id, world.a.id);
      expect((await client.query("select 1 from app_public.alert_requests")).rowCount).toBe(0);
    }),
  );
});

describe("app_hidden.receive_alerts", () => {
  it(
    "opens, updates without acknowledging, and resolves with generated resolution fields",
    inWorld(async (client, world) => {
      await becomeSource(client, world.source, world.a.id);
      const opened = await receive(client, world.source, alert("cpu", "firing", "medium"));
      expect(opened.incidents[0]!.action).toBe("opened");
      const id = opened.incidents[0]!.id;
      const updated = await receive(client, world.source, alert("cpu", "firing", "critical"));
      expect(updated.incidents[0]).toMatchObject({ id, action: "updated" });
      const read = async () =>
        (
          await client.query(
            "select severity, status, acknowledged_at, root_cause, resolution_summary from app_public.incidents where id = $1",
            [id],
          )
        ).rows[0];
      expect(await read()).toMatchObject({ severity: "critical", status: "investigating", acknowledged_at: null });
      const resolved = await receive(client, world.source, alert("cpu", "resolved"));
      expect(resolved.incidents[0]).toMatchObject({ id, action: "resolved" });
      const closed = await read();
      expect(closed.status).toBe("resolved");
      expect(closed.root_cause).toContain("Alert cpu");
      expect(closed.resolution_summary).toContain("Prometheus");
    }),
  );

  it(
    "acts only as its caller: a viewer is refused, another organization's source is not found",
    inWorld(async (client, world) => {
      await becomeUser(client, db.config, world.a.members.viewer.id, world.a.id);
      await expectSqlState(client, "IPF01", "select app_hidden.receive_alerts($1, $2::jsonb)", [
        world.source,
        alert("v"),
      ]);
      await becomeUser(client, db.config, world.a.members.editor.id, world.a.id);
      await expectSqlState(client, "IPN02", "select app_hidden.receive_alerts($1, $2::jsonb)", [
        world.bSource,
        alert("b"),
      ]);
      await expectSqlState(client, "IPN02", "select app_hidden.claim_alert_idempotency_key($1, 'k', 'h')", [
        world.bSource,
      ]);
      expect((await receive(client, world.source, alert("e"))).incidents[0]!.action).toBe("opened");
      await expectSqlState(client, "IPV04", "select app_hidden.receive_alerts($1, $2::jsonb)", [
        world.source,
        JSON.stringify([{ fingerprint: "", status: "firing", title: "No fingerprint" }]),
      ]);
    }),
  );

  it(
    "replays an idempotency key's answer and refuses the key with another body",
    inWorld(async (client, world) => {
      await becomeSource(client, world.source, world.a.id);
      const claim = (hash: string) =>
        client.query<{ response: unknown }>(
          "select app_hidden.claim_alert_idempotency_key($1, 'delivery-1', $2) as response",
          [world.source, hash],
        );
      expect((await claim("hash-1")).rows[0]!.response).toBeNull();
      await client.query("select app_hidden.remember_alert_response($1, 'delivery-1', '{\"accepted\": 1}')", [
        world.source,
      ]);
      expect((await claim("hash-1")).rows[0]!.response).toEqual({ accepted: 1 });
      await expectSqlState(
        client,
        "IPC05",
        "select app_hidden.claim_alert_idempotency_key($1, 'delivery-1', 'hash-2')",
        [world.source],
      );
    }),
  );
});

describe("secrets", () => {
  it(
    "keeps sealed secrets and idempotency keys out of the API roles' reach",
    inWorld(async (client, world) => {
      await becomeUser(client, db.config, world.a.members.owner.id, world.a.id);
      await expectSqlState(client, "42501", "select * from app_private.alert_source_secrets");
      await expectSqlState(client, "42501", "select * from app_private.alert_idempotency_keys");
      const { rows } = await client.query("select secret_hint from app_public.alert_sources where id = $1", [
        world.source,
      ]);
      expect(rows).toEqual([{ secret_hint: "ipas_…abcd" }]);
    }),
  );
});
