/**
 * The invitation link: /accept-invitation#<token>. The token travels in the fragment, which
 * browsers never send to servers, so it stays out of access logs and Referer headers.
 * Signed in, one click joins; otherwise the invitee creates an account (which joins too) or
 * signs in first and comes back here.
 */
import { useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { useClient } from "urql";
import { fromCombinedError, type CodedError } from "../../lib/errors.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { useSession } from "../session/SessionContext.tsx";
import { AuthLayout } from "./AuthLayout.tsx";
import { AcceptInvitationMutation, SwitchOrganizationMutation } from "./mutations.ts";
import { SignUpForm } from "./SignUpForm.tsx";

export function AcceptInvitationPage() {
  const session = useSession();
  const client = useClient();
  const navigate = useNavigate();
  const location = useLocation();
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);

  const finish = async () => {
    await navigate("/incidents", { replace: true });
    session.restart();
  };

  const accept = async () => {
    setPending(true);
    setErrors(null);
    const accepted = await client.mutation(AcceptInvitationMutation, { token }).toPromise();
    const organizationId = accepted.data?.acceptInvitation?.membership?.organizationId as string | undefined;
    if (accepted.error || !organizationId) {
      setPending(false);
      return setErrors(accepted.error ? fromCombinedError(accepted.error) : null);
    }
    // Single-tenant deployments have one organization: nothing to switch to.
    if (session.multiTenant) {
      const switched = await client.mutation(SwitchOrganizationMutation, { organizationId }).toPromise();
      if (switched.error) {
        setPending(false);
        return setErrors(fromCombinedError(switched.error));
      }
    }
    await finish();
  };

  if (!token) {
    return (
      <AuthLayout title="Invitation">
        <p role="alert">This invitation link is incomplete. Open the full link from the invitation.</p>
      </AuthLayout>
    );
  }

  const here = `/accept-invitation#${encodeURIComponent(token)}`;
  return (
    <AuthLayout title="Join an organization">
      {session.user ? (
        <>
          <p>
            You are signed in as <strong>{session.user.email}</strong>. The invitation must be for this address.
          </p>
          <button type="button" className="btn btn--primary" onClick={accept} disabled={pending}>
            {pending ? "Joining…" : "Accept the invitation"}
          </button>
          <ErrorNotice error={errors} />
        </>
      ) : (
        <>
          <p>Create an account with the invited email address to join.</p>
          <SignUpForm invitationToken={token} onRegistered={finish} />
          <p>
            Already have an account? <Link to={`/sign-in?next=${encodeURIComponent(here)}`}>Sign in</Link> and come back
            to this link.
          </p>
        </>
      )}
    </AuthLayout>
  );
}
