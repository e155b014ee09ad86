/**
 * An organization with a member per role, signed in over HTTP (multi-tenant server). It is on
 * the enterprise plan unless asked otherwise, so plan limits stay out of tests about other
 * things; the plan is set directly in the database, as billing events would.
 */
import { expect } from "vitest";
import { graphql, register, type Session, type TestServer } from "./testServer.ts";

export type Role = "owner" | "admin" | "editor" | "viewer";

export interface OrganizationMembers {
  organizationId: string;
  slug: string;
  tokens: Record<Role, string>;
  users: Record<Role, Session>;
}

const SWITCH = `mutation S($id: UUID!) { switchOrganization(input: { organizationId: $id }) { token } }`;

export async function organizationWithMembers(
  server: TestServer,
  slug: string,
  plan: "free" | "pro" | "enterprise" = "enterprise",
): Promise<OrganizationMembers> {
  const { url } = server;
  const setPlan = (organizationId: string, value: string) =>
    server.db.rootPool.query("update app_public.organizations set plan = $2 where id = $1", [organizationId, value]);
  const owner = await register(url, `${slug} owner`);
  const created = await graphql(
    url,
    `
      mutation C($slug: String!) {
        createOrganization(input: { name: $slug, slug: $slug }) {
          organization {
            rowId
          }
        }
      }
    `,
    { slug },
    { token: owner.token },
  );
  expect(created.errors).toBeUndefined();
  const organizationId = created.data!.createOrganization.organization.rowId as string;
  await setPlan(organizationId, "enterprise");
  const ownerToken = (await graphql(url, SWITCH, { id: organizationId }, { token: owner.token })).data!
    .switchOrganization.token as string;

  const users = { owner } as Record<Role, Session>;
  const tokens = { owner: ownerToken } as Record<Role, string>;
  for (const role of ["admin", "editor", "viewer"] as const) {
    const email = `${role}-${slug}-${Date.now()}@example.com`;
    const invited = await graphql(
      url,
      `
        mutation I($email: String!, $role: MembershipRole) {
          inviteMember(input: { email: $email, role: $role }) {
            token
          }
        }
      `,
      { email, role },
      { token: ownerToken },
    );
    const member = await register(url, `${slug} ${role}`, { email, invitationToken: invited.data!.inviteMember.token });
    users[role] = member;
    tokens[role] = member.token;
    expect(member.organizationId).toBe(organizationId);
  }
  await setPlan(organizationId, plan);
  return { organizationId, slug, tokens, users };
}
