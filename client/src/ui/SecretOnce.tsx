import type { ReactNode } from "react";
import { CopyField } from "./CopyField.tsx";

/**
 * A secret the server answers exactly once (an API key, a signing secret): shown with a copy
 * button until dismissed. It lives only in the state of the form that received it, so
 * leaving the page or dismissing it loses it for good, as the label says.
 */
export function SecretOnce({
  label,
  value,
  onDismiss,
  children,
}: {
  label: string;
  value: string;
  onDismiss?(): void;
  children?: ReactNode;
}) {
  return (
    <div className="secret-once" role="status">
      <CopyField label={label} value={value} />
      {children}
      {onDismiss && (
        <button type="button" className="btn btn--small" onClick={onDismiss}>
          I have stored it
        </button>
      )}
    </div>
  );
}
