import { Link } from "react-router";
import { formatDateTime } from "../../lib/format.ts";
import { Allowed } from "../session/Allowed.tsx";
import { useSession } from "../session/SessionContext.tsx";

/** Tells every member, on every page, that an owner scheduled the organization's deletion. */
export function DeletionNotice() {
  const { organization } = useSession();
  if (!organization?.deletionScheduledAt) return null;
  return (
    <p className="deletion-notice" role="status">
      {organization.name} and all its data will be deleted on {formatDateTime(organization.deletionScheduledAt)}.{" "}
      <Allowed permission="manageOrganization">
        <Link to="/settings/organization">Cancel the deletion</Link>
      </Allowed>
    </p>
  );
}
