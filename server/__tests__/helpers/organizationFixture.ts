/**
 * An organization signed in over HTTP, as the database helpers (seedOrganizationFully and the
 * factories) know organizations: its id, slug and a member per role.
 */
import type { OrganizationFixture } from "../../../db/__tests__/helpers/factories.ts";
import type { OrganizationMembers } from "./organization.ts";

export const fixtureOf = (org: OrganizationMembers): OrganizationFixture => ({
  id: org.organizationId,
  slug: org.slug,
  members: Object.fromEntries(
    Object.entries(org.users).map(([role, user]) => [role, { id: user.userId, email: user.email }]),
  ) as OrganizationFixture["members"],
});
