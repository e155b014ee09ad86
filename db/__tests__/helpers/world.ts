/**
 * The isolation fixture of reference/security.md: organizations A and B with one member per
 * role, a user who belongs to both (editor in A, owner in B, acting in A), a signed-in user
 * who belongs to neither, and anonymous. `actAs` switches the open transaction to one of them,
 * so a test reads like one cell of the access matrix.
 */
import { expect } from "vitest";
import type { DatabaseConfig } from "../../src/config.ts";
import {
  addMember,
  createOrganizationWithMembers,
  createUser,
  type OrganizationFixture,
  type Role,
} from "./factories.ts";
import { attempt, becomeAnonymous, becomeUser, type Client } from "./transactions.ts";

export interface UserFixture {
  id: string;
  email: string;
}

export interface World {
  a: OrganizationFixture;
  b: OrganizationFixture;
  /** Editor in A and owner in B: acting in A, B's rows must stay out of reach. */
  both: UserFixture;
  /** Signed in, member of nothing. */
  outsider: UserFixture;
}

export type Actor = Role | "otherOwner" | "both" | "outsider" | "anonymous";

export const ACTOR_LABELS: Record<Actor, string> = {
  owner: "owner of A",
  admin: "admin of A",
  editor: "editor of A",
  viewer: "viewer of A",
  otherOwner: "owner of B (acting in B)",
  both: "editor of A who owns B (acting in A)",
  outsider: "signed-in user with no membership",
  anonymous: "anonymous",
};

export async function createWorld(client: Client): Promise<World> {
  const a = await createOrganizationWithMembers(client, "Alpha");
  const b = await createOrganizationWithMembers(client, "Bravo");
  const both = await createUser(client, "Both");
  await addMember(client, a.id, both.id, "editor");
  await addMember(client, b.id, both.id, "owner");
  const outsider = await createUser(client, "Outsider");
  return { a, b, both, outsider };
}

/** The user behind an actor (undefined for anonymous). */
export function userOf(world: World, actor: Actor): UserFixture | undefined {
  switch (actor) {
    case "otherOwner":
      return world.b.members.owner;
    case "both":
      return world.both;
    case "outsider":
      return world.outsider;
    case "anonymous":
      return undefined;
    default:
      return world.a.members[actor];
  }
}

/** Switches the transaction to `actor`, acting in the organization the fixture says. */
export async function actAs(client: Client, config: DatabaseConfig, world: World, actor: Actor): Promise<void> {
  switch (actor) {
    case "anonymous":
      await becomeAnonymous(client, config);
      return;
    case "otherOwner":
      await becomeUser(client, config, world.b.members.owner.id, world.b.id);
      return;
    case "outsider":
      await becomeUser(client, config, world.outsider.id, null);
      return;
    default:
      await becomeUser(client, config, userOf(world, actor)!.id, world.a.id);
  }
}

/**
 * Returns to a role after `becomeRoot`, keeping the request settings (user, session, org) that
 * `becomeUser`/`becomeAnonymous` set earlier in the transaction.
 */
export async function resumeRole(client: Client, role: string): Promise<void> {
  await client.query("select set_config('role', $1, true)", [role]);
}

/** Ids returned by a query run as the current role, sorted. */
export async function ids(client: Client, text: string, values: unknown[] = []): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(text, values);
  return rows.map((row) => row.id).sort();
}

export const sorted = (values: string[]) => [...values].sort();

/** A read the caller may not make: refused (42501) or answered with no rows at all. */
export async function expectNothingVisible(client: Client, text: string, values: unknown[] = []): Promise<void> {
  const result = await attempt(client, text, values);
  if (result.error !== null) expect(result.error).toBe("42501");
  else expect(result.rows).toEqual([]);
}

/** A write that must change nothing: refused (42501) or matching no row. */
export async function expectNoEffect(client: Client, text: string, values: unknown[] = []): Promise<void> {
  const result = await attempt(client, text, values);
  if (result.error !== null) expect(result.error).toBe("42501");
  else expect(result.rowCount).toBe(0);
}

/** A statement that must succeed and touch exactly `count` rows. */
export async function expectRowCount(client: Client, count: number, text: string, values: unknown[] = []) {
  const result = await attempt(client, text, values);
  expect(result.error).toBeNull();
  expect(result.rowCount).toBe(count);
  return result;
}

/** A function an anonymous caller must not get through: no EXECUTE (42501) or "sign in" (IPA01). */
export async function expectRefusedToAnonymous(client: Client, text: string, values: unknown[] = []): Promise<void> {
  const result = await attempt(client, text, values);
  expect(["42501", "IPA01"]).toContain(result.error);
}
