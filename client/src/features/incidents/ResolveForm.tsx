import { useState, type FormEvent } from "react";
import { useClient } from "urql";
import { fromCombinedError, type CodedError } from "../../lib/errors.ts";
import { problemsOf, requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { PostUpdateMutation, UpdateIncidentMutation, type IncidentDetail } from "./queries.ts";

/**
 * Resolving: the database requires a root cause and a resolution summary before the status
 * may become resolved, so they are saved first, then the resolving update is posted.
 */
export function ResolveForm({ incident, onResolved }: { incident: IncidentDetail; onResolved(): void }) {
  const client = useClient();
  const [rootCause, setRootCause] = useState(incident.rootCause ?? "");
  const [summary, setSummary] = useState(incident.resolutionSummary ?? "");
  const [message, setMessage] = useState("This incident has been resolved.");
  const [problems, setProblems] = useState<{ rootCause?: string; summary?: string; message?: string }>({});
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = problemsOf({
      rootCause: requiredProblem(rootCause, "the root cause"),
      summary: requiredProblem(summary, "a resolution summary"),
      message: requiredProblem(message, "a message"),
    });
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setPending(true);
    setErrors(null);
    const saved = await client
      .mutation(UpdateIncidentMutation, {
        rowId: incident.rowId,
        patch: { rootCause: rootCause.trim(), resolutionSummary: summary.trim() },
      })
      .toPromise();
    const posted = saved.error
      ? null
      : await client
          .mutation(PostUpdateMutation, {
            incidentId: incident.rowId,
            status: "resolved",
            body: message.trim(),
            isPublic: incident.visibility === "public",
            serviceStatuses: [],
          })
          .toPromise();
    setPending(false);
    const failure = saved.error ?? posted?.error;
    if (failure) return setErrors(fromCombinedError(failure));
    onResolved();
  };

  return (
    <form onSubmit={submit} aria-label="Resolve the incident" className="form-grid" noValidate>
      <Field label="Root cause" problem={problems.rootCause}>
        <textarea rows={2} value={rootCause} onChange={(e) => setRootCause(e.target.value)} required />
      </Field>
      <Field label="Resolution summary" problem={problems.summary}>
        <textarea rows={2} value={summary} onChange={(e) => setSummary(e.target.value)} required />
      </Field>
      <Field label="Closing message" hint="Posted as the resolving update." problem={problems.message}>
        <textarea rows={2} value={message} onChange={(e) => setMessage(e.target.value)} required />
      </Field>
      <ErrorNotice error={errors} />
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={pending}>
          {pending ? "Resolving…" : "Resolve incident"}
        </button>
      </div>
    </form>
  );
}
