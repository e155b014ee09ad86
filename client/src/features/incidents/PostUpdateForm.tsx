import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { humanize } from "../../lib/format.ts";
import { requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import {
  INCIDENT_STATUSES,
  PostUpdateMutation,
  type IncidentDetail,
  type IncidentStatus,
  type ServiceOption,
} from "./queries.ts";
import { claimedStatuses, ServiceStatusPicker, type ServiceClaims } from "./ServiceStatusPicker.tsx";

/**
 * A timeline entry: the new status, what to say, public or internal, and the status claimed
 * for each affected service. Resolving has its own form (it needs a root cause and summary).
 */
export function PostUpdateForm({
  incident,
  services,
  onPosted,
}: {
  incident: IncidentDetail;
  services: ServiceOption[];
  onPosted(): void;
}) {
  const [result, post] = useMutation(PostUpdateMutation);
  const activeStatuses = INCIDENT_STATUSES.filter((status) => status !== "resolved");
  const [status, setStatus] = useState<IncidentStatus>(
    incident.status === "resolved" ? "investigating" : incident.status,
  );
  const [body, setBody] = useState("");
  const [isPublic, setIsPublic] = useState(incident.visibility === "public");
  const [claims, setClaims] = useState<ServiceClaims>(() =>
    Object.fromEntries(incident.incidentServices.nodes.map((claim) => [claim.serviceId, claim.status])),
  );
  const [bodyProblem, setBodyProblem] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = requiredProblem(body, "what changed");
    setBodyProblem(problem);
    if (problem) return;
    const posted = await post({
      incidentId: incident.rowId,
      status,
      body: body.trim(),
      isPublic,
      serviceStatuses: claimedStatuses(claims),
    });
    if (posted.error) return;
    setBody("");
    onPosted();
  };

  return (
    <form onSubmit={submit} aria-label="Post an update" className="form-grid" noValidate>
      <Field label="Status">
        <select value={status} onChange={(e) => setStatus(e.target.value as IncidentStatus)}>
          {activeStatuses.map((value) => (
            <option key={value} value={value}>
              {humanize(value)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Message" problem={bodyProblem}>
        <textarea rows={3} value={body} onChange={(e) => setBody(e.target.value)} required />
      </Field>
      <fieldset>
        <legend>Who sees it</legend>
        <label className="inline-choice">
          <input type="radio" name="update-visibility" checked={isPublic} onChange={() => setIsPublic(true)} />
          Public update
        </label>
        <label className="inline-choice">
          <input type="radio" name="update-visibility" checked={!isPublic} onChange={() => setIsPublic(false)} />
          Internal note
        </label>
        {incident.visibility === "internal" && isPublic && (
          <p className="field__hint">This incident is internal: its updates stay off the status page.</p>
        )}
      </fieldset>
      <ServiceStatusPicker services={services} claims={claims} onChange={setClaims} legend="Service statuses" />
      <ErrorNotice error={result.error} />
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          {result.fetching ? "Posting…" : incident.status === "resolved" ? "Reopen with this update" : "Post update"}
        </button>
      </div>
    </form>
  );
}
