/**
 * How the public status page presents the organization: title, description, support link,
 * time zone, and whether it is published. Owners and admins change it; everyone reads it.
 * Without saved settings the defaults apply (the organization's name, UTC, published).
 */
import { useId, useMemo, useState, type FormEvent } from "react";
import { gql, useMutation } from "urql";
import { formatDateTime } from "../../lib/format.ts";
import { problemsOf, urlProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Facts } from "../../ui/Facts.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useSession } from "../session/SessionContext.tsx";
import { useRole } from "../session/useRole.ts";

interface StatusPageSettings {
  organizationId: string;
  title: string | null;
  description: string | null;
  timeZone: string;
  supportUrl: string | null;
  published: boolean;
  updatedAt: string;
}

const SETTINGS_FIELDS = `
  organizationId
  title
  description
  timeZone
  supportUrl
  published
  updatedAt
`;

const StatusPageSettingsQuery = gql`
  query StatusPageSettings($organizationId: UUID!) {
    statusPageSetting(organizationId: $organizationId) {
      ${SETTINGS_FIELDS}
    }
  }
`;
const CreateSettingsMutation = gql`
  mutation CreateStatusPageSetting($settings: StatusPageSettingInput!) {
    createStatusPageSetting(input: { statusPageSetting: $settings }) {
      statusPageSetting {
        ${SETTINGS_FIELDS}
      }
    }
  }
`;
const UpdateSettingsMutation = gql`
  mutation UpdateStatusPageSetting($organizationId: UUID!, $patch: StatusPageSettingPatch!) {
    updateStatusPageSetting(input: { organizationId: $organizationId, patch: $patch }) {
      statusPageSetting {
        ${SETTINGS_FIELDS}
      }
    }
  }
`;

const DEFAULT_TIME_ZONE = "Etc/UTC";

/** The browser's list of IANA zones, offered as suggestions (the server checks its own list). */
function useTimeZones(): string[] {
  return useMemo(() => {
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    return [DEFAULT_TIME_ZONE, ...zones.filter((zone) => zone !== DEFAULT_TIME_ZONE)];
  }, []);
}

function SettingsForm({ saved, organizationName }: { saved: StatusPageSettings | null; organizationName: string }) {
  const { organization } = useSession();
  const [created, create] = useMutation(CreateSettingsMutation);
  const [updated, update] = useMutation(UpdateSettingsMutation);
  const [title, setTitle] = useState(saved?.title ?? "");
  const [description, setDescription] = useState(saved?.description ?? "");
  const [supportUrl, setSupportUrl] = useState(saved?.supportUrl ?? "");
  const [timeZone, setTimeZone] = useState(saved?.timeZone ?? DEFAULT_TIME_ZONE);
  const [published, setPublished] = useState(saved?.published ?? true);
  const [problems, setProblems] = useState<{ supportUrl?: string; timeZone?: string }>({});
  const [done, setDone] = useState(false);
  const zones = useTimeZones();
  const zoneListId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const found = problemsOf({
      supportUrl: supportUrl.trim() ? urlProblem(supportUrl) : null,
      timeZone: timeZone.trim() ? null : "Enter a time zone, e.g. Europe/Berlin.",
    });
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    // Empty fields are stored as nothing, so the defaults apply (e.g. the organization's name).
    const values = {
      title: title.trim() || null,
      description: description.trim() || null,
      supportUrl: supportUrl.trim() || null,
      timeZone: timeZone.trim(),
      published,
    };
    const result = saved
      ? await update({ organizationId: saved.organizationId, patch: values })
      : await create({ settings: values });
    if (!result.error) setDone(true);
  };

  return (
    <form onSubmit={submit} aria-label="Status page settings" className="card form-grid" noValidate>
      <Field label="Title (optional)" hint={`Shown at the top of the page; empty: “${organizationName}”.`}>
        <input value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} />
      </Field>
      <Field label="Description (optional)">
        <textarea value={description} maxLength={2000} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <Field
        label="Support URL (optional)"
        hint="Where visitors get help, e.g. your help desk."
        problem={problems.supportUrl}
      >
        <input type="url" value={supportUrl} onChange={(e) => setSupportUrl(e.target.value)} />
      </Field>
      <Field label="Time zone" hint="An IANA name, e.g. Europe/Berlin." problem={problems.timeZone}>
        <input list={zoneListId} value={timeZone} onChange={(e) => setTimeZone(e.target.value)} />
      </Field>
      <datalist id={zoneListId}>
        {zones.map((zone) => (
          <option key={zone} value={zone} />
        ))}
      </datalist>
      <label className="inline-choice">
        <input type="checkbox" checked={published} onChange={(e) => setPublished(e.target.checked)} />
        Published: anyone can open the page at /status/{organization?.slug}
      </label>
      <ErrorNotice error={created.error ?? updated.error} />
      {done && (
        <p role="status" className="success-text">
          Saved. The public page shows it within seconds.
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={created.fetching || updated.fetching}>
          Save settings
        </button>
      </div>
    </form>
  );
}

export function StatusPageSettingsPage() {
  const { organization } = useSession();
  const { can } = useRole();
  const [{ data, fetching, error }] = useLiveQuery<{ statusPageSetting: StatusPageSettings | null }>({
    query: StatusPageSettingsQuery,
    variables: { organizationId: organization?.rowId },
    context: listContext("StatusPageSetting"),
    pause: !organization,
  });
  if (!organization) return null;
  const saved = data?.statusPageSetting ?? null;
  return (
    <>
      <PageHeader title="Status page">
        <p>
          How <a href={`/status/${organization.slug}`}>your public status page</a> presents {organization.name}.
        </p>
      </PageHeader>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : can("manageStatusPage") ? (
        <SettingsForm saved={saved} organizationName={organization.name} />
      ) : (
        <Facts
          items={[
            ["Title", saved?.title ?? organization.name],
            ["Description", saved?.description ?? "—"],
            ["Support URL", saved?.supportUrl ?? "—"],
            ["Time zone", saved?.timeZone ?? DEFAULT_TIME_ZONE],
            ["Published", (saved?.published ?? true) ? "Yes" : "No"],
            ["Last changed", formatDateTime(saved?.updatedAt)],
          ]}
        />
      )}
    </>
  );
}
