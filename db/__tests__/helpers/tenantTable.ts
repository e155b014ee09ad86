/**
 * The access matrix of a tenant table, one `it` per cell: members of A by role, the owner of
 * B acting in B (against A's rows), the editor of A who owns B, a signed-in outsider, and
 * anonymous. A table spec says which role each operation needs (null: nobody through the
 * table) and how to check, as root, that the operation took effect.
 */
import { describe, expect, it } from "vitest";
import type { TestDatabase } from "./database.ts";
import { ROLES, type Role } from "./factories.ts";
import { seedOrganization, type OrgSeed } from "./incidentFixtures.ts";
import { attempt, becomeRoot, expectSqlState, withRootDb, type Client } from "./transactions.ts";
import {
  ACTOR_LABELS,
  actAs,
  createWorld,
  expectNoEffect,
  expectNothingVisible,
  expectRowCount,
  type Actor,
  type World,
} from "./world.ts";

export interface Seeded {
  world: World;
  a: OrgSeed;
  b: OrgSeed;
}

/** A test in a fresh world with organizations A and B seeded, rolled back afterwards. */
export function inSeededWorld(getDb: () => TestDatabase, fn: (client: Client, seeded: Seeded) => Promise<void>) {
  return () =>
    withRootDb(getDb().rootPool, async (client) => {
      const world = await createWorld(client);
      const a = await seedOrganization(client, world.a);
      const b = await seedOrganization(client, world.b);
      await fn(client, { world, a, b });
    });
}

export interface Operation {
  /** The least role that may do it, or null when nobody may through the table. */
  minRole: Role | null;
  sql: string;
  values: (seed: OrgSeed, seeded: Seeded) => unknown[];
  /** As root: whether the operation on this organization's seed took effect. */
  tookEffect: (client: Client, seed: OrgSeed, seeded: Seeded) => Promise<boolean>;
}

export interface TenantTableSpec {
  table: string;
  /** Selects a `key` text column identifying each row, from the table alone. */
  selectKeys: string;
  /** The least role that reads the table. */
  selectRole: Role;
  insert: Operation;
  update: Operation;
  delete: Operation;
}

type Kind = "insert" | "update" | "delete";
const KINDS: readonly Kind[] = ["insert", "update", "delete"];

const atLeast = (role: Role, minimum: Role | null) => minimum !== null && ROLES.indexOf(role) <= ROLES.indexOf(minimum);

/** The keys of an organization's rows, as root. */
export async function keysOf(client: Client, spec: TenantTableSpec, organizationId: string): Promise<string[]> {
  await becomeRoot(client);
  const { rows } = await client.query<{ key: string }>(
    `select key from (${spec.selectKeys.replace(/^select /i, "select organization_id, ")}) as t where organization_id = $1`,
    [organizationId],
  );
  return rows.map((row) => row.key).sort();
}

async function visibleKeys(client: Client, spec: TenantTableSpec): Promise<string[]> {
  const { rows } = await client.query<{ key: string }>(spec.selectKeys);
  return rows.map((row) => row.key).sort();
}

/** Runs an operation as `actor` and checks it is allowed or refused, with its effect as root. */
async function checkOperation(
  client: Client,
  db: TestDatabase,
  seeded: Seeded,
  actor: Actor,
  operation: Operation,
  target: OrgSeed,
  allowed: boolean,
  kind: Kind,
) {
  await actAs(client, db.config, seeded.world, actor);
  const values = operation.values(target, seeded);
  if (allowed) {
    await expectRowCount(client, 1, operation.sql, values);
  } else if (kind === "insert") {
    const result = await attempt(client, operation.sql, values);
    // Refused by privilege or policy, or (pointing at another organization's parent) by a foreign
    // key; or, for a table without a parent, written into the actor's own organization (checked
    // below: nothing appears in the target organization).
    if (result.error !== null) expect(["42501", "23503"]).toContain(result.error);
  } else {
    await expectNoEffect(client, operation.sql, values);
  }
  await becomeRoot(client);
  expect(await operation.tookEffect(client, target, seeded)).toBe(allowed);
}

export function describeTenantTable(getDb: () => TestDatabase, spec: TenantTableSpec) {
  const test = (fn: (client: Client, seeded: Seeded) => Promise<void>) => inSeededWorld(getDb, fn);

  describe(`${spec.table}: access matrix`, () => {
    for (const role of ROLES) {
      describe(ACTOR_LABELS[role], () => {
        const mayRead = atLeast(role, spec.selectRole);
        it(
          mayRead ? "SELECT: sees every row of A and none of B" : "SELECT: sees no row",
          test(async (client, seeded) => {
            const expected = mayRead ? await keysOf(client, spec, seeded.a.organizationId) : [];
            if (mayRead) expect(expected.length).toBeGreaterThan(0);
            await actAs(client, getDb().config, seeded.world, role);
            if (mayRead) expect(await visibleKeys(client, spec)).toEqual(expected);
            else await expectNothingVisible(client, spec.selectKeys);
          }),
        );
        for (const kind of KINDS) {
          const allowed = atLeast(role, spec[kind].minRole);
          it(
            `${kind.toUpperCase()}: ${allowed ? "allowed" : "refused or no effect"}`,
            test(async (client, seeded) => {
              await checkOperation(client, getDb(), seeded, role, spec[kind], seeded.a, allowed, kind);
            }),
          );
        }
      });
    }

    describe(ACTOR_LABELS.otherOwner, () => {
      it(
        "SELECT: sees none of A's rows (and B's when owners read the table)",
        test(async (client, seeded) => {
          const ofA = await keysOf(client, spec, seeded.a.organizationId);
          const ofB = await keysOf(client, spec, seeded.b.organizationId);
          await actAs(client, getDb().config, seeded.world, "otherOwner");
          const visible = await visibleKeys(client, spec);
          expect(visible.filter((key) => ofA.includes(key))).toEqual([]);
          expect(visible).toEqual(ofB);
        }),
      );
      for (const kind of KINDS) {
        it(
          `${kind.toUpperCase()} targeting A's rows: refused or no effect`,
          test(async (client, seeded) => {
            await checkOperation(client, getDb(), seeded, "otherOwner", spec[kind], seeded.a, false, kind);
          }),
        );
      }
    });

    describe(ACTOR_LABELS.both, () => {
      it(
        "SELECT: sees none of B's rows while acting in A",
        test(async (client, seeded) => {
          const ofB = await keysOf(client, spec, seeded.b.organizationId);
          await actAs(client, getDb().config, seeded.world, "both");
          const visible = await visibleKeys(client, spec);
          expect(visible.filter((key) => ofB.includes(key))).toEqual([]);
        }),
      );
      for (const kind of ["update", "delete"] as const) {
        it(
          `${kind.toUpperCase()} of B's rows (which they own) while acting in A: no effect`,
          test(async (client, seeded) => {
            await checkOperation(client, getDb(), seeded, "both", spec[kind], seeded.b, false, kind);
          }),
        );
      }
    });

    for (const actor of ["outsider", "anonymous"] as const) {
      describe(ACTOR_LABELS[actor], () => {
        it(
          "SELECT: sees no row",
          test(async (client, seeded) => {
            await actAs(client, getDb().config, seeded.world, actor);
            await expectNothingVisible(client, spec.selectKeys);
          }),
        );
        for (const kind of KINDS) {
          it(
            `${kind.toUpperCase()}: refused or no effect`,
            test(async (client, seeded) => {
              await checkOperation(client, getDb(), seeded, actor, spec[kind], seeded.a, false, kind);
            }),
          );
        }
      });
    }

    it(
      "UPDATE moving A's rows to B: refused (42501, organization_id is not writable)",
      test(async (client, seeded) => {
        await actAs(client, getDb().config, seeded.world, "owner");
        await expectSqlState(
          client,
          "42501",
          `update ${spec.table} set organization_id = $1 where organization_id = $2`,
          [seeded.b.organizationId, seeded.a.organizationId],
        );
      }),
    );
  });
}
