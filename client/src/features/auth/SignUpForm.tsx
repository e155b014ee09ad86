import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { emailProblem, passwordProblem, problemsOf, requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { RegisterMutation } from "./mutations.ts";

/** Creating an account, optionally with an invitation token (it then joins that organization). */
export function SignUpForm({
  invitationToken,
  fixedEmail,
  onRegistered,
}: {
  invitationToken?: string;
  fixedEmail?: string;
  onRegistered(): void;
}) {
  const [result, register] = useMutation(RegisterMutation);
  const [name, setName] = useState("");
  const [email, setEmail] = useState(fixedEmail ?? "");
  const [password, setPassword] = useState("");
  const [problems, setProblems] = useState<Partial<Record<"name" | "email" | "password", string>>>({});

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = problemsOf({
      name: requiredProblem(name, "your name"),
      email: emailProblem(email),
      password: passwordProblem(password),
    });
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const registered = await register({
      name: name.trim(),
      email: email.trim(),
      password,
      invitationToken: invitationToken ?? null,
    });
    if (!registered.error) onRegistered();
  };

  return (
    <form onSubmit={submit} aria-label="Create an account" noValidate>
      <Field label="Name" problem={problems.name}>
        <input autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <Field label="Email" problem={problems.email}>
        <input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </Field>
      <Field label="Password" hint="At least 8 characters." problem={problems.password}>
        <input
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </Field>
      <ErrorNotice error={result.error} />
      <button type="submit" className="btn btn--primary" disabled={result.fetching}>
        {result.fetching ? "Creating your account…" : "Create account"}
      </button>
    </form>
  );
}
