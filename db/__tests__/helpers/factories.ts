/**
 * Fixtures, created as root inside the test's transaction.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "./transactions.ts";

export type Role = "owner" | "admin" | "editor" | "viewer";
export const ROLES: readonly Role[] = ["owner", "admin", "editor", "viewer"];

const unique = () => randomBytes(4).toString("hex");

export async function createUser(client: Client, name = "User"): Promise<{ id: string; email: string }> {
  const email = `${name.toLowerCase().replace(/\W+/g, "-")}-${unique()}@example.com`;
  const { rows } = await client.query<{ id: string; email: string }>(
    "insert into app_public.users (email, name) values ($1, $2) returning id, email",
    [email, name],
  );
  return rows[0]!;
}

export async function createOrganization(client: Client, name = "Org"): Promise<{ id: string; slug: string }> {
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${unique()}`;
  const { rows } = await client.query<{ id: string; slug: string }>(
    "insert into app_public.organizations (name, slug) values ($1, $2) returning id, slug",
    [name, slug],
  );
  return rows[0]!;
}

export async function addMember(client: Client, organizationId: string, userId: string, role: Role): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    "insert into app_public.organization_memberships (organization_id, user_id, role) values ($1, $2, $3) returning id",
    [organizationId, userId, role],
  );
  return rows[0]!.id;
}

export interface OrganizationFixture {
  id: string;
  slug: string;
  members: Record<Role, { id: string; email: string }>;
}

/** An organization with one member per role. */
export async function createOrganizationWithMembers(client: Client, name: string): Promise<OrganizationFixture> {
  const organization = await createOrganization(client, name);
  const members = {} as OrganizationFixture["members"];
  for (const role of ROLES) {
    members[role] = await createUser(client, `${name} ${role}`);
    await addMember(client, organization.id, members[role].id, role);
  }
  return { ...organization, members };
}

export async function setMultiTenant(client: Client, enabled: boolean): Promise<void> {
  await client.query("update app_private.instance_settings set multi_tenant_enabled = $1", [enabled]);
}

/** A pending invitation with its clear token, stored the way invite_member stores it (hash only). */
export async function createInvitation(
  client: Client,
  organizationId: string,
  email: string,
  role: Role = "viewer",
): Promise<{ id: string; token: string }> {
  const token = randomBytes(32).toString("hex");
  const { rows } = await client.query<{ id: string }>(
    "insert into app_public.organization_invitations (organization_id, email, role) values ($1, $2, $3) returning id",
    [organizationId, email, role],
  );
  const id = rows[0]!.id;
  await client.query(
    "insert into app_private.invitation_tokens (token_hash, organization_id, invitation_id) values (public.digest($1, 'sha256'), $2, $3)",
    [token, organizationId, id],
  );
  return { id, token };
}

/** Gives a fixture user a password (bcrypt at the minimum cost: fast, and crypt() checks any cost). */
export async function setPassword(client: Client, userId: string, password: string): Promise<void> {
  await client.query(
    `insert into app_private.user_credentials (user_id, password_hash)
     values ($1, public.crypt($2, public.gen_salt('bf', 4)))
     on conflict (user_id) do update set password_hash = excluded.password_hash`,
    [userId, password],
  );
}

/**
 * Deletes an organization the way the worker does once an owner's request is due: as the
 * database owner, fenced to that organization, through app_private.delete_organization_if_due.
 * (Nobody deletes an organization directly through the API.) Leaves the client as root.
 */
export async function deleteOrganizationAsWorker(
  client: Client,
  ownerRole: string,
  organizationId: string,
): Promise<boolean> {
  await client.query("reset role");
  await client.query("update app_public.organizations set deletion_scheduled_at = now() where id = $1", [
    organizationId,
  ]);
  await client.query("select set_config('role', $1, true), set_config('jwt.claims.org_id', $2, true)", [
    ownerRole,
    organizationId,
  ]);
  const { rows } = await client.query<{ deleted: boolean }>(
    "select app_private.delete_organization_if_due($1) as deleted",
    [organizationId],
  );
  await client.query("reset role");
  return rows[0]!.deleted;
}
