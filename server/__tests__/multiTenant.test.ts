/**
 * The whole membership flow over HTTP in multi-tenant mode, with another organization trying
 * to reach in at every step.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql, login, register, startTestServer, type Session, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
});
afterAll(async () => {
  await server.stop();
});

const as = (session: { token: string }) => ({ token: session.token });
const CREATE_ORG = `mutation C($name: String!, $slug: String!) {
  createOrganization(input: { name: $name, slug: $slug }) { organization { rowId id slug } }
}`;
const SWITCH = `mutation S($id: UUID!) {
  switchOrganization(input: { organizationId: $id }) { token organizationId membershipRole }
}`;
const INVITE = `mutation I($email: String!, $role: MembershipRole) {
  inviteMember(input: { email: $email, role: $role }) { token invitation { rowId email role } }
}`;
const ACCEPT = `mutation A($token: String!) { acceptInvitation(input: { token: $token }) { membership { role } } }`;
const CHANGE_ROLE = `mutation R($userId: UUID!, $role: MembershipRole!) {
  changeMemberRole(input: { userId: $userId, role: $role }) { membership { role } }
}`;
const REMOVE = `mutation X($userId: UUID!) { removeMember(input: { userId: $userId }) { membership { rowId } } }`;
const MEMBERS = `query { currentOrganization { rowId organizationMemberships { nodes { role user { rowId email } } } } }`;

async function ownerOfNewOrganization(name: string, slug: string): Promise<Session & { orgNodeId: string }> {
  const user = await register(server.url, name);
  expect(user.organizationId).toBeNull();
  const created = await graphql(server.url, CREATE_ORG, { name: `${name}'s org`, slug }, as(user));
  expect(created.status).toBe(200);
  const organization = created.data!.createOrganization.organization;
  const switched = await graphql(server.url, SWITCH, { id: organization.rowId }, as(user));
  expect(switched.data!.switchOrganization.membershipRole).toBe("owner");
  return { ...user, ...switched.data!.switchOrganization, orgNodeId: organization.id };
}

describe("multi-tenant membership flow", () => {
  let alice: Awaited<ReturnType<typeof ownerOfNewOrganization>>;
  let bob: Awaited<ReturnType<typeof ownerOfNewOrganization>>;

  beforeAll(async () => {
    alice = await ownerOfNewOrganization("Alice", "acme");
    bob = await ownerOfNewOrganization("Bob", "globex");
  });

  it("register → create → invite → accept → switch → change role → remove, with no way in from outside", async () => {
    // Invite Carol to Acme as editor.
    const invite = await graphql(server.url, INVITE, { email: "carol@example.com", role: "editor" }, as(alice));
    expect(invite.status).toBe(200);
    const invitationToken = invite.data!.inviteMember.token as string;
    expect(invite.data!.inviteMember.invitation).toMatchObject({ email: "carol@example.com", role: "editor" });

    // Bob cannot see Acme's invitations, nor revoke them.
    const bobsView = await graphql(
      server.url,
      `
        query {
          organizationInvitations {
            totalCount
          }
        }
      `,
      {},
      as(bob),
    );
    expect(bobsView.data!.organizationInvitations.totalCount).toBe(0);
    const bobRevokes = await graphql(
      server.url,
      `
        mutation R($id: UUID!) {
          revokeInvitation(input: { invitationId: $id }) {
            invitation {
              rowId
            }
          }
        }
      `,
      { id: invite.data!.inviteMember.invitation.rowId },
      as(bob),
    );
    expect([bobRevokes.status, bobRevokes.code]).toEqual([404, "NOT_FOUND"]);

    // Bob cannot use Carol's token: the invitation names her email.
    const stolen = await graphql(server.url, ACCEPT, { token: invitationToken }, as(bob));
    expect([stolen.status, stolen.code]).toEqual([403, "INVITATION_EMAIL_MISMATCH"]);

    // Carol registers and accepts; the token is single-use.
    const carol = await register(server.url, "Carol", { email: "carol@example.com" });
    const accepted = await graphql(server.url, ACCEPT, { token: invitationToken }, as(carol));
    expect(accepted.data!.acceptInvitation.membership.role).toBe("editor");
    const reused = await graphql(server.url, ACCEPT, { token: invitationToken }, as(carol));
    expect([reused.status, reused.code]).toEqual([409, "INVITATION_ALREADY_USED"]);

    // Carol switches into Acme and sees its members.
    const switched = await graphql(server.url, SWITCH, { id: alice.organizationId }, as(carol));
    expect(switched.data!.switchOrganization.membershipRole).toBe("editor");
    const carolInAcme = { token: switched.data!.switchOrganization.token as string };
    const members = await graphql(server.url, MEMBERS, {}, carolInAcme);
    const emails = members.data!.currentOrganization.organizationMemberships.nodes.map(
      (node: { user: { email: string } }) => node.user.email,
    );
    expect(emails.sort()).toEqual([alice.email, "carol@example.com"].sort());

    // Bob cannot switch into Acme, change Carol's role or remove her.
    const bobSwitch = await graphql(server.url, SWITCH, { id: alice.organizationId }, as(bob));
    expect([bobSwitch.status, bobSwitch.code]).toEqual([403, "NOT_A_MEMBER"]);
    const bobChanges = await graphql(server.url, CHANGE_ROLE, { userId: carol.userId, role: "viewer" }, as(bob));
    expect([bobChanges.status, bobChanges.code]).toEqual([404, "NOT_FOUND"]);
    const bobRemoves = await graphql(server.url, REMOVE, { userId: carol.userId }, as(bob));
    expect([bobRemoves.status, bobRemoves.code]).toEqual([404, "NOT_FOUND"]);

    // Carol (editor) cannot change roles; Alice (owner) can; nobody changes their own.
    const carolChanges = await graphql(server.url, CHANGE_ROLE, { userId: alice.userId, role: "viewer" }, carolInAcme);
    expect([carolChanges.status, carolChanges.code]).toEqual([403, "FORBIDDEN"]);
    const promoted = await graphql(server.url, CHANGE_ROLE, { userId: carol.userId, role: "admin" }, as(alice));
    expect(promoted.data!.changeMemberRole.membership.role).toBe("admin");
    const self = await graphql(server.url, CHANGE_ROLE, { userId: alice.userId, role: "admin" }, as(alice));
    expect([self.status, self.code]).toEqual([403, "CANNOT_CHANGE_OWN_ROLE"]);
    // The role comes from the database: Carol's old token now acts as admin.
    const carolInvites = await graphql(server.url, INVITE, { email: "dave@example.com", role: "viewer" }, carolInAcme);
    expect(carolInvites.status).toBe(200);
    // ...but an admin cannot make owners.
    const carolMakesOwner = await graphql(
      server.url,
      INVITE,
      { email: "erin@example.com", role: "owner" },
      carolInAcme,
    );
    expect([carolMakesOwner.status, carolMakesOwner.code]).toEqual([403, "OWNER_ROLE_REQUIRED"]);

    // Alice removes Carol; Carol's token for Acme then sees nothing of it.
    const removed = await graphql(server.url, REMOVE, { userId: carol.userId }, as(alice));
    expect(removed.status).toBe(200);
    const afterRemoval = await graphql(server.url, MEMBERS, {}, carolInAcme);
    expect(afterRemoval.data!.currentOrganization).toBeNull();
    const lastOwner = await graphql(server.url, REMOVE, { userId: alice.userId }, as(alice));
    expect([lastOwner.status, lastOwner.code]).toEqual([409, "LAST_OWNER"]);
  });

  it("never shows one organization's rows to another, by id, slug, node id or list", async () => {
    const probe = await graphql(
      server.url,
      `
        query P($orgId: UUID!, $nodeId: ID!, $userId: UUID!) {
          organization(rowId: $orgId) {
            rowId
          }
          organizationBySlug(slug: "acme") {
            rowId
          }
          node(id: $nodeId) {
            id
          }
          user(rowId: $userId) {
            rowId
          }
          organizations {
            nodes {
              slug
            }
          }
          organizationMemberships {
            nodes {
              organization {
                slug
              }
            }
          }
          users {
            nodes {
              email
            }
          }
        }
      `,
      { orgId: alice.organizationId, nodeId: alice.orgNodeId, userId: alice.userId },
      as(bob),
    );
    expect(probe.status).toBe(200);
    expect(probe.data).toMatchObject({ organization: null, organizationBySlug: null, node: null, user: null });
    expect(probe.data!.organizations.nodes).toEqual([{ slug: "globex" }]);
    expect(probe.data!.organizationMemberships.nodes).toEqual([{ organization: { slug: "globex" } }]);
    expect(probe.data!.users.nodes).toEqual([{ email: bob.email }]);
  });

  it("refuses cross-organization writes through the generated mutations", async () => {
    const rename = await graphql(
      server.url,
      `
        mutation U($id: UUID!) {
          updateOrganization(input: { rowId: $id, patch: { name: "Pwned" } }) {
            organization {
              name
            }
          }
        }
      `,
      { id: alice.organizationId },
      as(bob),
    );
    // An update that matches no visible row changes nothing and answers like a delete: 404.
    expect(rename.data?.updateOrganization?.organization ?? null).toBeNull();
    expect([rename.status, rename.code]).toEqual([404, "NOT_FOUND"]);
    // Deleting goes through requestOrganizationDeletion (owners of the active organization only).
    const remove = await graphql(
      server.url,
      `
        mutation {
          requestOrganizationDeletion(input: { confirmSlug: "alices-org" }) {
            clientMutationId
          }
        }
      `,
      {},
      as(bob),
    );
    expect(remove.code).toBe("CONFIRMATION_MISMATCH");
    const { rows } = await server.db.rootPool.query("select name from app_public.organizations where id = $1", [
      alice.organizationId,
    ]);
    expect(rows[0].name).toBe("Alice's org");
  });

  it("keeps plan and billing status out of the client's reach", async () => {
    const attempt = await graphql(
      server.url,
      `
        mutation U($id: UUID!) {
          updateOrganization(input: { rowId: $id, patch: { plan: enterprise } }) {
            organization {
              plan
            }
          }
        }
      `,
      { id: bob.organizationId },
      as(bob),
    );
    expect(attempt.status).toBe(400);
    expect(attempt.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("lets a member with several organizations list and switch between them", async () => {
    const dana = await register(server.url, "Dana", { email: "dana@example.com" });
    for (const owner of [alice, bob]) {
      const invited = await graphql(server.url, INVITE, { email: "dana@example.com", role: "viewer" }, as(owner));
      await graphql(server.url, ACCEPT, { token: invited.data!.inviteMember.token }, as(dana));
    }
    const relogin = await login(server.url, "dana@example.com");
    const memberships = await graphql(
      server.url,
      `
        query {
          currentUser {
            organizationMemberships {
              nodes {
                organization {
                  slug
                }
              }
            }
          }
        }
      `,
      {},
      { token: relogin.data!.login.token },
    );
    const slugs = memberships.data!.currentUser.organizationMemberships.nodes.map(
      (node: { organization: { slug: string } }) => node.organization.slug,
    );
    expect(slugs.sort()).toEqual(["acme", "globex"]);
    const intoGlobex = await graphql(
      server.url,
      SWITCH,
      { id: bob.organizationId },
      { token: relogin.data!.login.token },
    );
    const seen = await graphql(server.url, MEMBERS, {}, { token: intoGlobex.data!.switchOrganization.token });
    expect(seen.data!.currentOrganization.rowId).toBe(bob.organizationId);
  });
});
