import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useClient, useQuery } from "urql";
import { fromCombinedError, type CodedError } from "../../lib/errors.ts";
import { humanize } from "../../lib/format.ts";
import { requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { useRole } from "../session/useRole.ts";
import {
  AddIncidentServiceMutation,
  CreateIncidentMutation,
  SEVERITIES,
  ServiceOptionsQuery,
  type ServiceOption,
  type Severity,
} from "./queries.ts";
import { claimedStatuses, ServiceStatusPicker, type ServiceClaims } from "./ServiceStatusPicker.tsx";

export function CreateIncidentPage() {
  const client = useClient();
  const navigate = useNavigate();
  const { can } = useRole();
  const [{ data: serviceData }] = useQuery<{ services: { nodes: ServiceOption[] } | null }>({
    query: ServiceOptionsQuery,
  });
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [severity, setSeverity] = useState<Severity>("medium");
  const [visibility, setVisibility] = useState<"public" | "internal">("public");
  const [claims, setClaims] = useState<ServiceClaims>({});
  const [titleProblem, setTitleProblem] = useState<string | null>(null);
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);

  if (!can("manageIncidents")) return <p role="alert">Your role cannot declare incidents.</p>;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = requiredProblem(title, "a title");
    setTitleProblem(problem);
    if (problem) return;
    setPending(true);
    setErrors(null);
    const created = await client
      .mutation(CreateIncidentMutation, {
        incident: { title: title.trim(), description: description.trim() || null, severity, visibility },
      })
      .toPromise();
    const incidentId = created.data?.createIncident?.incident?.rowId as string | undefined;
    if (created.error || !incidentId) {
      setPending(false);
      return setErrors(created.error ? fromCombinedError(created.error) : null);
    }
    for (const claim of claimedStatuses(claims)) {
      const added = await client.mutation(AddIncidentServiceMutation, { incidentId, ...claim }).toPromise();
      if (added.error) {
        // The incident exists: go to it, where the failure can be retried with an update.
        setPending(false);
        return setErrors(fromCombinedError(added.error));
      }
    }
    await navigate(`/incidents/${incidentId}`);
  };

  return (
    <>
      <PageHeader title="Declare an incident" />
      <form className="card form-grid" onSubmit={submit} aria-label="Declare an incident" noValidate>
        <Field label="Title" problem={titleProblem}>
          <input value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
        </Field>
        <Field label="Description" hint="For the team; updates carry what the public sees.">
          <textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field label="Severity">
          <select value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
            {SEVERITIES.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </Field>
        <fieldset>
          <legend>Visibility</legend>
          <label className="inline-choice">
            <input
              type="radio"
              name="visibility"
              checked={visibility === "public"}
              onChange={() => setVisibility("public")}
            />
            Public (on the status page)
          </label>
          <label className="inline-choice">
            <input
              type="radio"
              name="visibility"
              checked={visibility === "internal"}
              onChange={() => setVisibility("internal")}
            />
            Internal (members only)
          </label>
        </fieldset>
        <ServiceStatusPicker services={serviceData?.services?.nodes ?? []} claims={claims} onChange={setClaims} />
        <ErrorNotice error={errors} />
        <div className="form-actions">
          <button type="submit" className="btn btn--primary" disabled={pending}>
            {pending ? "Declaring…" : "Declare incident"}
          </button>
        </div>
      </form>
    </>
  );
}
