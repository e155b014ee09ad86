import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { passwordProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { useSession } from "../session/SessionContext.tsx";
import { ChangePasswordMutation } from "./mutations.ts";

export function AccountPage() {
  const { user } = useSession();
  const [result, changePassword] = useMutation(ChangePasswordMutation);
  const [oldPassword, setOldPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [problems, setProblems] = useState<{ newPassword?: string; confirmation?: string }>({});
  const [done, setDone] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const found = {
      newPassword: passwordProblem(newPassword) ?? undefined,
      confirmation: confirmation === newPassword ? undefined : "The passwords do not match.",
    };
    setProblems(found);
    if (found.newPassword || found.confirmation) return;
    const changed = await changePassword({ oldPassword, newPassword });
    if (changed.error) return;
    setDone(true);
    setOldPassword("");
    setNewPassword("");
    setConfirmation("");
  };

  return (
    <>
      <PageHeader title="Your account">
        <p>
          {user?.name} · {user?.email}
        </p>
      </PageHeader>
      <section className="card narrow">
        <h2>Change password</h2>
        <form onSubmit={submit} aria-label="Change password" noValidate>
          <Field label="Current password">
            <input
              type="password"
              autoComplete="current-password"
              value={oldPassword}
              onChange={(e) => setOldPassword(e.target.value)}
              required
            />
          </Field>
          <Field label="New password" hint="At least 8 characters." problem={problems.newPassword}>
            <input
              type="password"
              autoComplete="new-password"
              value={newPassword}
              onChange={(e) => setNewPassword(e.target.value)}
              required
            />
          </Field>
          <Field label="Repeat the new password" problem={problems.confirmation}>
            <input
              type="password"
              autoComplete="new-password"
              value={confirmation}
              onChange={(e) => setConfirmation(e.target.value)}
              required
            />
          </Field>
          <ErrorNotice error={result.error} />
          {done && (
            <p role="status" className="success-text">
              Password changed. Your other sessions were signed out.
            </p>
          )}
          <button type="submit" className="btn btn--primary" disabled={result.fetching}>
            Change password
          </button>
        </form>
      </section>
    </>
  );
}
