import { Navigate, Outlet, useLocation } from "react-router";
import { useSession } from "./SessionContext.tsx";

/** Routes for signed-in users: anyone else is sent to sign in and brought back afterwards. */
export function RequireUser() {
  const { user } = useSession();
  const location = useLocation();
  if (!user) {
    const next = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

/** Routes that act in an organization: a user without one is asked to create one first. */
export function RequireOrganization() {
  const { organization, multiTenant } = useSession();
  if (!organization) {
    if (multiTenant) return <Navigate to="/organizations/new" replace />;
    return (
      <p className="page-status" role="alert">
        You are not a member of this organization. Ask an owner for an invitation.
      </p>
    );
  }
  return <Outlet />;
}

/** Where a signed-in user lands: their organization's incidents, or creating one. */
export function homePathFor(session: { organization: unknown; multiTenant: boolean }): string {
  return session.organization || !session.multiTenant ? "/incidents" : "/organizations/new";
}

/** A `next` parameter, only when it is a path on this site (never another origin). */
export function safeNext(next: string | null): string | null {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}
