import { useRef, useState, type FormEvent } from "react";
import type { CodedError } from "../../lib/errors.ts";
import { formatDateTime } from "../../lib/format.ts";
import { request } from "../../lib/http.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import type { IncidentAttachment } from "./queries.ts";

function formatSize(bytes: number | null): string {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Files on an incident: downloads for every member, uploads (multipart, field `file`) for editors. */
export function Attachments({
  incidentId,
  attachments,
  canUpload,
  onUploaded,
}: {
  incidentId: string;
  attachments: IncidentAttachment[];
  canUpload: boolean;
  onUploaded(): void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);

  const upload = async (event: FormEvent) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (!file) return setErrors([{ code: "VALIDATION_FAILED", message: "Choose a file first.", extensions: {} }]);
    const body = new FormData();
    body.append("file", file);
    setPending(true);
    setErrors(null);
    const result = await request(`/api/incidents/${incidentId}/attachments`, { method: "POST", body });
    setPending(false);
    if (!result.ok) return setErrors(result.errors);
    if (input.current) input.current.value = "";
    onUploaded();
  };

  return (
    <div>
      {attachments.length === 0 ? (
        <p className="empty">No attachments.</p>
      ) : (
        <ul className="attachments">
          {attachments.map((attachment) => (
            <li key={attachment.rowId}>
              <a href={`/api/attachments/${attachment.rowId}`} download={attachment.filename}>
                {attachment.filename}
              </a>{" "}
              <span className="muted">
                {formatSize(attachment.sizeBytes)} · {attachment.uploadedBy?.name ?? "someone"} ·{" "}
                {formatDateTime(attachment.createdAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {canUpload && (
        <form onSubmit={upload} aria-label="Upload an attachment" className="inline-form">
          <label htmlFor="attachment-file">File (images, PDF, text; up to 10 MB)</label>
          <input id="attachment-file" ref={input} type="file" name="file" />
          <button type="submit" className="btn" disabled={pending}>
            {pending ? "Uploading…" : "Upload"}
          </button>
          <ErrorNotice error={errors} />
        </form>
      )}
    </div>
  );
}
