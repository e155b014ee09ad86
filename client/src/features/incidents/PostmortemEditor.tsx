import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { formatDateTime } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { UpdateIncidentMutation, type IncidentDetail } from "./queries.ts";

/** The postmortem: a plain-text document, saved as a draft or published. */
export function PostmortemEditor({ incident, editable }: { incident: IncidentDetail; editable: boolean }) {
  const [result, updateIncident] = useMutation(UpdateIncidentMutation);
  const [text, setText] = useState(incident.postmortem ?? "");
  const [saved, setSaved] = useState(false);
  const published = incident.postmortemPublishedAt != null;

  const save = async (publish: boolean | null) => {
    setSaved(false);
    const patch: Record<string, unknown> = { postmortem: text };
    if (publish !== null) patch.postmortemPublishedAt = publish ? new Date().toISOString() : null;
    const done = await updateIncident({ rowId: incident.rowId, patch });
    if (!done.error) setSaved(true);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save(null);
  };

  if (!editable) {
    return incident.postmortem ? (
      <div className="postmortem">{incident.postmortem}</div>
    ) : (
      <p className="empty">No postmortem yet.</p>
    );
  }
  return (
    <form onSubmit={submit} aria-label="Postmortem">
      <Field
        label="Postmortem"
        hint={published ? `Published ${formatDateTime(incident.postmortemPublishedAt)}.` : "Draft: not published."}
      >
        <textarea rows={10} value={text} onChange={(e) => setText(e.target.value)} />
      </Field>
      <ErrorNotice error={result.error} />
      {saved && (
        <p role="status" className="success-text">
          Saved.
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn" disabled={result.fetching}>
          Save draft
        </button>
        <button
          type="button"
          className="btn btn--primary"
          disabled={result.fetching}
          onClick={() => void save(!published)}
        >
          {published ? "Unpublish" : "Save and publish"}
        </button>
      </div>
    </form>
  );
}
