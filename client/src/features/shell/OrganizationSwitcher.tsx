import { useState, type ChangeEvent } from "react";
import { useNavigate } from "react-router";
import { useMutation } from "urql";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { SwitchOrganizationMutation } from "../auth/mutations.ts";
import { useSession } from "../session/SessionContext.tsx";

const CREATE = "__create__";

/** Header control: the active organization, the others to switch to, and creating one. */
export function OrganizationSwitcher() {
  const { organization, organizations, multiTenant, restart } = useSession();
  const navigate = useNavigate();
  const [result, switchOrganization] = useMutation(SwitchOrganizationMutation);
  const [value, setValue] = useState(organization?.rowId ?? "");
  if (!multiTenant) return null;

  const onChange = async (event: ChangeEvent<HTMLSelectElement>) => {
    const chosen = event.target.value;
    if (chosen === CREATE) return navigate("/organizations/new");
    setValue(chosen);
    const switched = await switchOrganization({ organizationId: chosen });
    if (switched.error) return setValue(organization?.rowId ?? "");
    await navigate("/incidents");
    restart();
  };

  return (
    <div className="org-switcher">
      <label htmlFor="organization-switcher" className="sr-only">
        Organization
      </label>
      <select id="organization-switcher" value={value} onChange={onChange} disabled={result.fetching}>
        {!organization && <option value="">Choose an organization</option>}
        {organizations.map((org) => (
          <option key={org.rowId} value={org.rowId}>
            {org.name}
          </option>
        ))}
        <option value={CREATE}>+ New organization…</option>
      </select>
      <ErrorNotice error={result.error} />
    </div>
  );
}
