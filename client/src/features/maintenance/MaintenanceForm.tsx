/**
 * Scheduling or editing a maintenance window: what, when (local time) and which services.
 * The window and its services are separate rows, so the services are added and removed
 * one by one after the window itself is saved.
 */
import { useState, type FormEvent } from "react";
import { useClient } from "urql";
import { fromCombinedError, type CodedError } from "../../lib/errors.ts";
import { fromLocalInput, toLocalInput } from "../../lib/format.ts";
import { problemsOf, requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import type { ServiceOption } from "../incidents/queries.ts";
import {
  AddMaintenanceServiceMutation,
  CreateMaintenanceMutation,
  RemoveMaintenanceServiceMutation,
  UpdateMaintenanceMutation,
  type MaintenanceRow,
} from "./queries.ts";

const HOUR = 3_600_000;

export function MaintenanceForm({
  existing,
  services,
  onSaved,
}: {
  existing?: MaintenanceRow;
  services: ServiceOption[];
  onSaved(): void;
}) {
  const client = useClient();
  const [title, setTitle] = useState(existing?.title ?? "");
  const [body, setBody] = useState(existing?.body ?? "");
  const [startsAt, setStartsAt] = useState(() =>
    toLocalInput(existing ? new Date(existing.startsAt) : new Date(Date.now() + HOUR)),
  );
  const [endsAt, setEndsAt] = useState(() =>
    toLocalInput(existing ? new Date(existing.endsAt) : new Date(Date.now() + 2 * HOUR)),
  );
  const initialServices = new Set(existing?.maintenanceServices.nodes.map((s) => s.serviceId) ?? []);
  const [chosen, setChosen] = useState<Set<string>>(initialServices);
  const [problems, setProblems] = useState<{ title?: string; endsAt?: string }>({});
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = problemsOf({
      title: requiredProblem(title, "a title"),
      endsAt: new Date(endsAt) > new Date(startsAt) ? null : "End after the start.",
    });
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setPending(true);
    setErrors(null);
    const fields = {
      title: title.trim(),
      body: body.trim(),
      startsAt: fromLocalInput(startsAt),
      endsAt: fromLocalInput(endsAt),
    };
    const saved = existing
      ? await client.mutation(UpdateMaintenanceMutation, { rowId: existing.rowId, patch: fields }).toPromise()
      : await client.mutation(CreateMaintenanceMutation, { window: fields }).toPromise();
    const windowId =
      existing?.rowId ?? (saved.data?.createMaintenanceWindow?.maintenanceWindow?.rowId as string | undefined);
    let failure = saved.error;
    if (!failure && windowId) {
      const added = [...chosen].filter((id) => !initialServices.has(id));
      const removed = [...initialServices].filter((id) => !chosen.has(id));
      for (const serviceId of added) {
        failure ??= (
          await client.mutation(AddMaintenanceServiceMutation, { maintenanceWindowId: windowId, serviceId }).toPromise()
        ).error;
      }
      for (const serviceId of removed) {
        failure ??= (
          await client
            .mutation(RemoveMaintenanceServiceMutation, { maintenanceWindowId: windowId, serviceId })
            .toPromise()
        ).error;
      }
    }
    setPending(false);
    if (failure) return setErrors(fromCombinedError(failure));
    onSaved();
  };

  return (
    <form
      onSubmit={submit}
      aria-label={existing ? `Edit ${existing.title}` : "Schedule maintenance"}
      className="form-grid"
      noValidate
    >
      <Field label="Title" problem={problems.title}>
        <input value={title} onChange={(e) => setTitle(e.target.value)} required />
      </Field>
      <Field label="What will happen">
        <textarea rows={2} value={body} onChange={(e) => setBody(e.target.value)} />
      </Field>
      <Field label="Starts (your time)">
        <input type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} required />
      </Field>
      <Field label="Ends (your time)" problem={problems.endsAt}>
        <input type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} required />
      </Field>
      <fieldset className="checkbox-list">
        <legend>Services under maintenance</legend>
        {services.map((service) => (
          <label key={service.rowId} className="inline-choice">
            <input
              type="checkbox"
              checked={chosen.has(service.rowId)}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.target.checked) next.add(service.rowId);
                else next.delete(service.rowId);
                setChosen(next);
              }}
            />
            {service.name}
          </label>
        ))}
      </fieldset>
      <ErrorNotice error={errors} />
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={pending}>
          {pending ? "Saving…" : existing ? "Save changes" : "Schedule"}
        </button>
      </div>
    </form>
  );
}
