/**
 * The organization itself, for owners: download everything as JSON, and delete it. Deleting
 * is scheduled (the server keeps everything for a grace period, when an owner can still
 * cancel) and asks for the slug to be typed, as the server does.
 */
import { useState, type FormEvent } from "react";
import { gql, useMutation } from "urql";
import type { CodedError } from "../../lib/errors.ts";
import { formatDateTime } from "../../lib/format.ts";
import { downloadFile } from "../../lib/http.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";

interface OrganizationRow {
  rowId: string;
  name: string;
  slug: string;
  deletionScheduledAt: string | null;
}

const OrganizationQuery = gql`
  query OrganizationSettings {
    currentOrganization {
      rowId
      name
      slug
      deletionScheduledAt
    }
  }
`;
const RequestDeletionMutation = gql`
  mutation RequestOrganizationDeletion($confirmSlug: String!) {
    requestOrganizationDeletion(input: { confirmSlug: $confirmSlug }) {
      organization {
        rowId
        deletionScheduledAt
      }
    }
  }
`;
const CancelDeletionMutation = gql`
  mutation CancelOrganizationDeletion {
    cancelOrganizationDeletion(input: {}) {
      organization {
        rowId
        deletionScheduledAt
      }
    }
  }
`;

function ExportSection({ slug }: { slug: string }) {
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<CodedError[] | null>(null);
  const download = async () => {
    setPending(true);
    setErrors(await downloadFile("/api/organization/export", `${slug}-export.json`));
    setPending(false);
  };
  return (
    <section className="card" aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <p>Everything of this organization as one JSON file: incidents, services, members, settings and logs.</p>
      <button type="button" className="btn" disabled={pending} onClick={() => void download()}>
        {pending ? "Preparing…" : "Download export"}
      </button>
      <ErrorNotice error={errors} />
    </section>
  );
}

function DeletionSection({ organization }: { organization: OrganizationRow }) {
  const [requested, requestDeletion] = useMutation(RequestDeletionMutation);
  const [canceled, cancelDeletion] = useMutation(CancelDeletionMutation);
  const [typed, setTyped] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await requestDeletion({ confirmSlug: typed.trim() });
    if (!result.error) setTyped("");
  };

  if (organization.deletionScheduledAt) {
    return (
      <section className="card" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Deletion scheduled</h2>
        <p role="status">
          {organization.name} and all its data will be deleted on{" "}
          <strong>{formatDateTime(organization.deletionScheduledAt)}</strong>. Until then everything keeps working and
          an owner can cancel.
        </p>
        <button
          type="button"
          className="btn btn--primary"
          disabled={canceled.fetching}
          onClick={() => void cancelDeletion({})}
        >
          Cancel the deletion
        </button>
        <ErrorNotice error={canceled.error} />
      </section>
    );
  }
  return (
    <section className="card" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete the organization</h2>
      <p>
        Deletes {organization.name}, its status page and all its data after a grace period, during which an owner can
        still cancel. Download an export first if you want to keep anything.
      </p>
      <form onSubmit={submit} aria-label="Delete the organization" className="form-grid" noValidate>
        <Field label={`Type “${organization.slug}” to confirm`}>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <ErrorNotice error={requested.error} />
        <div className="form-actions">
          <button
            type="submit"
            className="btn btn--danger"
            disabled={requested.fetching || typed.trim() !== organization.slug}
          >
            Delete organization
          </button>
        </div>
      </form>
    </section>
  );
}

export function OrganizationSettingsPage() {
  const { can } = useRole();
  const allowed = can("manageOrganization");
  const [{ data, fetching, error }] = useLiveQuery<{ currentOrganization: OrganizationRow | null }>({
    query: OrganizationQuery,
    pause: !allowed,
  });
  if (!allowed) return <p role="alert">Only owners export or delete the organization.</p>;
  const organization = data?.currentOrganization;
  return (
    <>
      <PageHeader title="Organization" />
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : (
        organization && (
          <>
            <ExportSection slug={organization.slug} />
            <DeletionSection organization={organization} />
          </>
        )
      )}
    </>
  );
}
