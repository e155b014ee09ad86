/**
 * An organization with a member per role, signed in over HTTP (multi-tenant server).
 */
import { expect } from "vitest";
import { graphql, register, type Session } from "./testServer.ts";

export type Role = "owner" | "admin" | "editor" | "viewer";

export interface OrganizationMembers {
  organizationId: string;
  slug: string;
  tokens: Record<Role, string>;
  users: Record<Role, Session>;
}

const SWITCH = `mutation S($id: UUID!) { switchOrganization(input: { organizationId: $id }) { token } }`;

export async function organizationWithMembers(url: string, slug: string): Promise<OrganizationMembers> {
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
  return { organizationId, slug, tokens, users };
}
