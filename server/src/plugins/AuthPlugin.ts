/**
 * The mutations that hand out or end sessions: register, login, logout, switchOrganization,
 * plus inviteMember, whose clear token must leave the database exactly once. The decisions
 * are made by SQL functions in app_hidden (run as the caller's role); this plugin only signs
 * tokens, sets cookies and throttles sign-in attempts.
 */
import { context, get, object, type Step } from "postgraphile/grafast";
import { sideEffectWithPgClientTransaction } from "postgraphile/@dataplan/pg";
import { extendSchema, gql } from "postgraphile/utils";
import type { SessionControl } from "../auth/session.ts";
import type { MembershipRole, TokenClaims } from "../auth/tokens.ts";
import { codedError } from "../errors.ts";

declare global {
  namespace Grafast {
    interface Context {
      session: SessionControl;
    }
  }
}

interface ClaimsRow {
  session_id: string | null;
  user_id: string | null;
  organization_id: string | null;
  role: MembershipRole | null;
}

const CLAIMS_COLUMNS = "c.session_id, c.user_id, c.organization_id, c.role";

function toClaims(row: ClaimsRow | undefined): TokenClaims | null {
  if (!row?.session_id || !row.user_id) return null;
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    organizationId: row.organization_id,
    membershipRole: row.role,
  };
}

function payloadFor(session: SessionControl, claims: TokenClaims) {
  const issued = session.issue(claims);
  return {
    token: issued.token,
    csrfToken: issued.csrfToken,
    userId: claims.userId,
    organizationId: claims.organizationId,
    membershipRole: claims.membershipRole,
  };
}

export const AuthPlugin = extendSchema((build) => {
  const { users, organization_invitations: invitations } = build.input.pgRegistry.pgResources;
  if (!users || !invitations) throw new Error("AuthPlugin needs the users and organization_invitations tables");
  const executor = users.executor;

  return {
    typeDefs: gql`
      """
      A signed-in session. Browsers also receive it as an httpOnly cookie (and must echo
      csrfToken in the X-CSRF-Token header); API clients send token as a Bearer token.
      """
      type AuthPayload {
        token: String!
        csrfToken: String!
        userId: UUID!
        "The organization the token acts in; null until the user belongs to one."
        organizationId: UUID
        membershipRole: MembershipRole
      }

      input RegisterInput {
        email: String!
        name: String!
        password: String!
        "Joins the inviting organization; the email must be the invited one."
        invitationToken: String
      }

      input LoginInput {
        email: String!
        password: String!
      }

      input SwitchOrganizationInput {
        organizationId: UUID!
      }

      input InviteMemberInput {
        email: String!
        role: MembershipRole = viewer
      }

      type InviteMemberPayload {
        invitation: OrganizationInvitation
        "Shown once: send it to the invitee (acceptInvitation / register)."
        token: String!
      }

      extend type Mutation {
        "Creates an account and signs in."
        register(input: RegisterInput!): AuthPayload
        "Signs in. A wrong email and a wrong password get the same answer."
        login(input: LoginInput!): AuthPayload
        "Ends the current session; its token stops working at once."
        logout: Boolean
        "Re-issues the session's token for another organization the user belongs to."
        switchOrganization(input: SwitchOrganizationInput!): AuthPayload
        "Invites an email address to the active organization (owners and admins)."
        inviteMember(input: InviteMemberInput!): InviteMemberPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          register(_$root, { $input }) {
            const $session = context().get("session");
            return sideEffectWithPgClientTransaction(
              executor,
              object({ input: $input as Step, session: $session }),
              async (client, { input, session }) => {
                const { email, name, password, invitationToken } = input as Record<string, string | null>;
                await session.throttle.beginRegistration(session.clientAddress);
                const { rows } = await client.query<ClaimsRow>({
                  text: `select ${CLAIMS_COLUMNS} from app_hidden.register($1, $2, $3, $4) c`,
                  values: [email, name, password, invitationToken ?? null],
                });
                const claims = toClaims(rows[0]);
                if (!claims) throw new Error("register returned no session");
                return payloadFor(session, claims);
              },
            );
          },

          login(_$root, { $input }) {
            const $session = context().get("session");
            return sideEffectWithPgClientTransaction(
              executor,
              object({ input: $input as Step, session: $session }),
              async (client, { input, session }) => {
                const { email, password } = input as { email: string; password: string };
                await session.throttle.beginAttempt(email, session.clientAddress);
                const { rows } = await client.query<ClaimsRow>({
                  text: `select ${CLAIMS_COLUMNS} from app_hidden.login($1, $2) c`,
                  values: [email, password],
                });
                const claims = toClaims(rows[0]);
                if (!claims) {
                  throw codedError("INVALID_CREDENTIALS", "Incorrect email or password.");
                }
                await session.throttle.succeeded(email, session.clientAddress);
                return payloadFor(session, claims);
              },
            );
          },

          logout() {
            const $session = context().get("session");
            const $done = sideEffectWithPgClientTransaction(executor, $session, async (client, session) => {
              if (session.identity?.kind === "session") await client.query({ text: "select app_hidden.logout()" });
              session.clear();
              return true;
            });
            return $done;
          },

          switchOrganization(_$root, { $input }) {
            const $session = context().get("session");
            return sideEffectWithPgClientTransaction(
              executor,
              object({ input: $input as Step, session: $session }),
              async (client, { input, session }) => {
                const { organizationId } = input as { organizationId: string };
                const { rows } = await client.query<ClaimsRow>({
                  text: `select ${CLAIMS_COLUMNS} from app_hidden.switch_organization($1) c`,
                  values: [organizationId],
                });
                const claims = toClaims(rows[0]);
                if (!claims) throw new Error("switch_organization returned no session");
                return payloadFor(session, claims);
              },
            );
          },

          inviteMember(_$root, { $input }) {
            const $issued = sideEffectWithPgClientTransaction(executor, $input as Step, async (client, input) => {
              const { email, role } = input as { email: string; role: string | null };
              const { rows } = await client.query<{ invitation_id: string; token: string }>({
                text: "select i.invitation_id, i.token from app_hidden.invite_member($1, $2::app_public.membership_role) i",
                values: [email, role ?? "viewer"],
              });
              return rows[0]!;
            });
            return $issued;
          },
        },
      },

      InviteMemberPayload: {
        plans: {
          invitation($issued: Step) {
            return invitations.get({ id: get($issued, "invitation_id") });
          },
        },
      },
    },
  };
});
