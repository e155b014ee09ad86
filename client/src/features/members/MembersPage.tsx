/**
 * Members and invitations. Owners and admins invite (the link is shown once), change roles
 * and remove members; only owners hand out or take away the owner role; nobody changes their
 * own role. Everyone may leave.
 */
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { gql, useMutation } from "urql";
import { formatDate, humanize } from "../../lib/format.ts";
import { emailProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { ROLES, type Role } from "../session/roles.ts";
import { useSession } from "../session/SessionContext.tsx";
import { useRole } from "../session/useRole.ts";
import { CopyField } from "../../ui/CopyField.tsx";

const MembersQuery = gql`
  query Members {
    currentOrganization {
      rowId
      organizationMemberships {
        nodes {
          rowId
          userId
          role
          createdAt
          user {
            name
            email
          }
        }
      }
      organizationInvitations(orderBy: [PRIMARY_KEY_DESC]) {
        nodes {
          rowId
          email
          role
          expiresAt
          acceptedAt
          revokedAt
        }
      }
    }
  }
`;

const InviteMutation = gql`
  mutation InviteMember($email: String!, $role: MembershipRole!) {
    inviteMember(input: { email: $email, role: $role }) {
      token
      invitation {
        rowId
      }
    }
  }
`;
const ChangeRoleMutation = gql`
  mutation ChangeMemberRole($userId: UUID!, $role: MembershipRole!) {
    changeMemberRole(input: { userId: $userId, role: $role }) {
      membership {
        rowId
        role
      }
    }
  }
`;
const RemoveMemberMutation = gql`
  mutation RemoveMember($userId: UUID!) {
    removeMember(input: { userId: $userId }) {
      membership {
        rowId
      }
    }
  }
`;
const RevokeInvitationMutation = gql`
  mutation RevokeInvitation($invitationId: UUID!) {
    revokeInvitation(input: { invitationId: $invitationId }) {
      invitation {
        rowId
        revokedAt
      }
    }
  }
`;

interface Member {
  rowId: string;
  userId: string;
  role: Role;
  createdAt: string;
  user: { name: string; email: string } | null;
}
interface Invitation {
  rowId: string;
  email: string;
  role: Role;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

/** The roles someone may hand out: owners all, admins all but owner. */
const grantable = (role: Role | null): Role[] => (role === "owner" ? ROLES : ROLES.filter((r) => r !== "owner"));

function MemberRow({
  member,
  self,
  myRole,
  onLeft,
}: {
  member: Member;
  self: boolean;
  myRole: Role | null;
  onLeft(): void;
}) {
  const { can } = useRole();
  const [changed, changeRole] = useMutation(ChangeRoleMutation);
  const [removed, remove] = useMutation(RemoveMemberMutation);
  const mayManage = can("manageMembers") && !self && (member.role !== "owner" || myRole === "owner");
  const name = member.user?.name ?? "Someone";
  return (
    <tr>
      <th scope="row">
        {name} {self && <span className="muted">(you)</span>}
        <div className="muted">{member.user?.email}</div>
      </th>
      <td>
        {mayManage ? (
          <>
            <label className="sr-only" htmlFor={`role-${member.rowId}`}>
              Role of {name}
            </label>
            <select
              id={`role-${member.rowId}`}
              value={member.role}
              disabled={changed.fetching}
              onChange={(e) => void changeRole({ userId: member.userId, role: e.target.value as Role })}
            >
              {grantable(myRole).map((role) => (
                <option key={role} value={role}>
                  {humanize(role)}
                </option>
              ))}
            </select>
          </>
        ) : (
          humanize(member.role)
        )}
      </td>
      <td>{formatDate(member.createdAt)}</td>
      <td>
        {(mayManage || self) && (
          <button
            type="button"
            className="btn btn--small btn--danger"
            disabled={removed.fetching}
            onClick={async () => {
              const question = self ? "Leave this organization?" : `Remove ${name} from the organization?`;
              if (!window.confirm(question)) return;
              const result = await remove({ userId: member.userId });
              if (!result.error && self) onLeft();
            }}
          >
            {self ? "Leave" : "Remove"}
            <span className="sr-only"> {name}</span>
          </button>
        )}
        <ErrorNotice error={changed.error ?? removed.error} />
      </td>
    </tr>
  );
}

function InviteForm({ myRole }: { myRole: Role | null }) {
  const [result, invite] = useMutation(InviteMutation);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [problem, setProblem] = useState<string | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setLink(null);
    const found = emailProblem(email);
    setProblem(found);
    if (found) return;
    const invited = await invite({ email: email.trim(), role });
    const token = invited.data?.inviteMember?.token as string | undefined;
    if (!token) return;
    setLink(`${window.location.origin}/accept-invitation#${encodeURIComponent(token)}`);
    setEmail("");
  };
  return (
    <form onSubmit={submit} aria-label="Invite a member" className="card form-grid" noValidate>
      <h2>Invite someone</h2>
      <Field label="Email" problem={problem}>
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </Field>
      <Field label="Role">
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {grantable(myRole).map((value) => (
            <option key={value} value={value}>
              {humanize(value)}
            </option>
          ))}
        </select>
      </Field>
      <ErrorNotice error={result.error} />
      {link && <CopyField label="Invitation link (shown once: send it to the invitee)" value={link} />}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Create invitation
        </button>
      </div>
    </form>
  );
}

function InvitationRow({ invitation }: { invitation: Invitation }) {
  const [revoked, revoke] = useMutation(RevokeInvitationMutation);
  const state = invitation.acceptedAt
    ? "Accepted"
    : invitation.revokedAt
      ? "Revoked"
      : new Date(invitation.expiresAt) < new Date()
        ? "Expired"
        : `Pending until ${formatDate(invitation.expiresAt)}`;
  return (
    <tr>
      <th scope="row">{invitation.email}</th>
      <td>{humanize(invitation.role)}</td>
      <td>{state}</td>
      <td>
        {state.startsWith("Pending") && (
          <button
            type="button"
            className="btn btn--small"
            disabled={revoked.fetching}
            onClick={() => void revoke({ invitationId: invitation.rowId })}
          >
            Revoke<span className="sr-only"> the invitation of {invitation.email}</span>
          </button>
        )}
        <ErrorNotice error={revoked.error} />
      </td>
    </tr>
  );
}

export function MembersPage() {
  const session = useSession();
  const { can, role } = useRole();
  const navigate = useNavigate();
  const [{ data, fetching, error }] = useLiveQuery<{
    currentOrganization: {
      organizationMemberships: { nodes: Member[] };
      organizationInvitations: { nodes: Invitation[] };
    } | null;
  }>({ query: MembersQuery, context: listContext("OrganizationMembership", "OrganizationInvitation") });
  if (fetching && !data) return <Loading />;
  const members = data?.currentOrganization?.organizationMemberships.nodes ?? [];
  const invitations = data?.currentOrganization?.organizationInvitations.nodes ?? [];
  const left = async () => {
    await navigate("/");
    session.restart();
  };

  return (
    <>
      <PageHeader title="Members" />
      <ErrorNotice error={error} />
      <div className="table-wrap">
        <table className="table">
          <caption className="sr-only">Members</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <MemberRow
                key={member.rowId}
                member={member}
                self={member.userId === session.user?.rowId}
                myRole={role}
                onLeft={left}
              />
            ))}
          </tbody>
        </table>
      </div>
      {can("manageMembers") && (
        <>
          <InviteForm myRole={role} />
          {invitations.length > 0 && (
            <section aria-labelledby="invitations-heading">
              <h2 id="invitations-heading">Invitations</h2>
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">Email</th>
                      <th scope="col">Role</th>
                      <th scope="col">State</th>
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {invitations.map((invitation) => (
                      <InvitationRow key={invitation.rowId} invitation={invitation} />
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          )}
        </>
      )}
    </>
  );
}
