import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { gql, useClient } from "urql";
import { fromCombinedError, type CodedError } from "../../lib/errors.ts";
import { problemsOf, requiredProblem, slugFrom, slugProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { SwitchOrganizationMutation } from "../auth/mutations.ts";
import { useSession } from "../session/SessionContext.tsx";

const CreateOrganizationMutation = gql`
  mutation CreateOrganization($name: String!, $slug: String!) {
    createOrganization(input: { name: $name, slug: $slug }) {
      organization {
        rowId
      }
    }
  }
`;

export function CreateOrganizationPage() {
  const session = useSession();
  const client = useClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [problems, setProblems] = useState<{ name?: string; slug?: string }>({});
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const [pending, setPending] = useState(false);
  const effectiveSlug = slugEdited ? slug : slugFrom(name);

  if (!session.multiTenant) {
    return <p role="alert">This server hosts a single organization.</p>;
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = problemsOf({ name: requiredProblem(name, "a name"), slug: slugProblem(effectiveSlug) });
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setPending(true);
    setErrors(null);
    const created = await client
      .mutation(CreateOrganizationMutation, { name: name.trim(), slug: effectiveSlug })
      .toPromise();
    const organizationId = created.data?.createOrganization?.organization?.rowId as string | undefined;
    const switched =
      organizationId && !created.error
        ? await client.mutation(SwitchOrganizationMutation, { organizationId }).toPromise()
        : null;
    const failure = created.error ?? switched?.error;
    setPending(false);
    if (failure || !switched) return setErrors(failure ? fromCombinedError(failure) : null);
    await navigate("/services");
    session.restart();
  };

  return (
    <>
      <PageHeader title="Create an organization" />
      <form className="card narrow" onSubmit={submit} aria-label="Create an organization" noValidate>
        <Field label="Name" problem={problems.name}>
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </Field>
        <Field
          label="Address of the status page"
          hint={`Your public status page will be at /status/${effectiveSlug || "…"}`}
          problem={problems.slug}
        >
          <input
            value={effectiveSlug}
            onChange={(e) => {
              setSlugEdited(true);
              setSlug(e.target.value);
            }}
            required
          />
        </Field>
        <ErrorNotice error={errors} />
        <button type="submit" className="btn btn--primary" disabled={pending}>
          {pending ? "Creating…" : "Create organization"}
        </button>
      </form>
    </>
  );
}
