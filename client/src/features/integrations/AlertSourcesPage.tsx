/**
 * Inbound alert sources: monitoring tools open, update and resolve incidents by posting to a
 * source's hook URL. Every member sees which sources exist; owners and admins create them
 * (the secret is shown once, with the URL), rotate the secret, turn them off, delete them
 * and read their request log.
 */
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { requiredProblem } from "../../lib/validation.ts";
import { CopyField } from "../../ui/CopyField.tsx";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Facts } from "../../ui/Facts.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { Pagination } from "../../ui/Pagination.tsx";
import { SecretOnce } from "../../ui/SecretOnce.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { SEVERITIES, ServiceOptionsQuery, type ServiceOption, type Severity } from "../incidents/queries.ts";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import { EnabledBadge } from "./IntegrationControls.tsx";
import {
  ALERT_SOURCE_FORMATS,
  AlertRequestsQuery,
  AlertSourcesQuery,
  CreateAlertSourceMutation,
  DeleteAlertSourceMutation,
  RotateAlertSourceSecretMutation,
  UpdateAlertSourceMutation,
  type AlertRequestRow,
  type AlertSourceFormat,
  type AlertSourceRow,
} from "./queries.ts";

const SECRET_LABEL = "Secret (ipas_…). It is shown only now: store it safely.";
const REQUESTS_PAGE_SIZE = 20;

/** Where a source posts: the hook path on this server. */
export const hookUrlOf = (hookPath: string) => `${window.location.origin}${hookPath}`;

const formatLabel = (format: AlertSourceFormat) =>
  ALERT_SOURCE_FORMATS.find((f) => f.value === format)?.label ?? format;

function CreateSourceForm({ services }: { services: ServiceOption[] }) {
  const [result, create] = useMutation(CreateAlertSourceMutation);
  const [name, setName] = useState("");
  const [format, setFormat] = useState<AlertSourceFormat>("generic");
  const [defaultServiceId, setDefaultServiceId] = useState("");
  const [defaultSeverity, setDefaultSeverity] = useState<Severity>("high");
  const [visibility, setVisibility] = useState<"internal" | "public">("internal");
  const [problem, setProblem] = useState<string | null>(null);
  const [issued, setIssued] = useState<{ secret: string; hookUrl: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setIssued(null);
    const found = requiredProblem(name, "a name");
    setProblem(found);
    if (found) return;
    const created = await create({
      name: name.trim(),
      format,
      defaultServiceId: defaultServiceId || null,
      defaultSeverity,
      visibility,
    });
    const answer = created.data?.createAlertSource as { secret: string; hookPath: string } | undefined;
    if (!answer) return;
    setIssued({ secret: answer.secret, hookUrl: hookUrlOf(answer.hookPath) });
    setName("");
  };

  return (
    <form onSubmit={submit} aria-label="Add an alert source" className="card form-grid" noValidate>
      <h2>Add a source</h2>
      <Field label="Name" hint="The monitoring tool, e.g. “Production Alertmanager”." problem={problem}>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <Field label="Format">
        <select value={format} onChange={(e) => setFormat(e.target.value as AlertSourceFormat)}>
          {ALERT_SOURCE_FORMATS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Default service" hint="Used when an alert names no service we know.">
        <select value={defaultServiceId} onChange={(e) => setDefaultServiceId(e.target.value)}>
          <option value="">None</option>
          {services.map((service) => (
            <option key={service.rowId} value={service.rowId}>
              {service.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Default severity" hint="Used when an alert has no severity we recognise.">
        <select value={defaultSeverity} onChange={(e) => setDefaultSeverity(e.target.value as Severity)}>
          {SEVERITIES.map((severity) => (
            <option key={severity} value={severity}>
              {humanize(severity)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Incidents it opens are">
        <select value={visibility} onChange={(e) => setVisibility(e.target.value as "internal" | "public")}>
          <option value="internal">Internal (members only)</option>
          <option value="public">Public (on the status page)</option>
        </select>
      </Field>
      <ErrorNotice error={result.error} />
      {issued && (
        <SecretOnce label={SECRET_LABEL} value={issued.secret} onDismiss={() => setIssued(null)}>
          <CopyField label="Hook URL (POST alerts here)" value={issued.hookUrl} />
        </SecretOnce>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Add source
        </button>
      </div>
    </form>
  );
}

export function AlertRequestLog({ alertSourceId }: { alertSourceId: string }) {
  const [page, setPage] = useState(1);
  const [{ data, fetching, error }] = useLiveQuery<{
    alertRequests: { totalCount: number; nodes: AlertRequestRow[] } | null;
  }>({
    query: AlertRequestsQuery,
    variables: { alertSourceId, first: REQUESTS_PAGE_SIZE, offset: (page - 1) * REQUESTS_PAGE_SIZE },
    context: listContext("AlertRequest"),
  });
  const requests = data?.alertRequests?.nodes ?? [];
  return (
    <div>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : requests.length === 0 ? (
        <p className="empty">No requests in the last 14 days.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Requests, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Answer</th>
                <th scope="col">Alerts</th>
                <th scope="col">Proved by</th>
                <th scope="col">From</th>
                <th scope="col">Body</th>
              </tr>
            </thead>
            <tbody>
              {requests.map((request) => (
                <tr key={request.rowId}>
                  <td>{formatDateTime(request.receivedAt)}</td>
                  <td>
                    <StatusBadge value={request.accepted ? "succeeded" : "failed"} label={String(request.httpStatus)} />{" "}
                    <code>{request.code}</code>
                  </td>
                  <td>{request.alertCount}</td>
                  <td>{request.authenticatedBy ? humanize(request.authenticatedBy) : "—"}</td>
                  <td>{request.remoteAddress ?? "—"}</td>
                  <td className="log-detail">
                    {request.bodyExcerpt && (
                      <details>
                        <summary>Body</summary>
                        <pre>{request.bodyExcerpt}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={page}
        pageSize={REQUESTS_PAGE_SIZE}
        total={data?.alertRequests?.totalCount ?? 0}
        onPage={setPage}
      />
    </div>
  );
}

function SourceControls({ source }: { source: AlertSourceRow }) {
  const [updated, update] = useMutation(UpdateAlertSourceMutation);
  const [deleted, remove] = useMutation(DeleteAlertSourceMutation);
  const [rotated, rotate] = useMutation(RotateAlertSourceSecretMutation);
  const [secret, setSecret] = useState<string | null>(null);
  const [logOpen, setLogOpen] = useState(false);
  const rotateSecret = async () => {
    if (!window.confirm(`Replace the secret of ${source.name}? The current one stops working at once.`)) return;
    setSecret(null);
    const result = await rotate({ id: source.rowId });
    const issued = result.data?.rotateAlertSourceSecret?.secret as string | undefined;
    if (issued) setSecret(issued);
  };
  return (
    <>
      <div className="integration__actions">
        <button type="button" className="btn btn--small" aria-expanded={logOpen} onClick={() => setLogOpen(!logOpen)}>
          {logOpen ? "Hide requests" : "Requests"}
          <span className="sr-only"> of {source.name}</span>
        </button>
        <button
          type="button"
          className="btn btn--small"
          disabled={updated.fetching}
          onClick={() => void update({ rowId: source.rowId, patch: { enabled: !source.enabled } })}
        >
          {source.enabled ? "Turn off" : "Turn on"}
          <span className="sr-only"> {source.name}</span>
        </button>
        <button
          type="button"
          className="btn btn--small"
          disabled={rotated.fetching}
          onClick={() => void rotateSecret()}
        >
          Rotate secret<span className="sr-only"> of {source.name}</span>
        </button>
        <button
          type="button"
          className="btn btn--small btn--danger"
          disabled={deleted.fetching}
          onClick={() => {
            if (window.confirm(`Delete the alert source ${source.name}? Its URL stops working at once.`)) {
              void remove({ rowId: source.rowId });
            }
          }}
        >
          Delete<span className="sr-only"> {source.name}</span>
        </button>
      </div>
      <ErrorNotice error={updated.error ?? rotated.error ?? deleted.error} />
      {secret && <SecretOnce label={SECRET_LABEL} value={secret} onDismiss={() => setSecret(null)} />}
      {logOpen && (
        <section aria-label={`Requests of ${source.name}`}>
          <AlertRequestLog alertSourceId={source.rowId} />
        </section>
      )}
    </>
  );
}

function SourceCard({ source, manage }: { source: AlertSourceRow; manage: boolean }) {
  return (
    <li className="card integration">
      <div className="integration__head">
        <h3 className="integration__title">{source.name}</h3>
        <EnabledBadge enabled={source.enabled} reason={null} />
      </div>
      <Facts
        items={[
          ["Format", formatLabel(source.format)],
          ["Default service", source.defaultService?.name ?? "None"],
          ["Default severity", humanize(source.defaultSeverity)],
          ["Incidents it opens", source.visibility === "public" ? "Public" : "Internal"],
          ["Last accepted request", formatDateTime(source.lastReceivedAt)],
          ["Secret", source.secretHint ? <code key="secret">{source.secretHint}</code> : "—"],
        ]}
      />
      {manage && source.hookPath && (
        <CopyField label={`Hook URL of ${source.name}`} value={hookUrlOf(source.hookPath)} />
      )}
      {manage && <SourceControls source={source} />}
    </li>
  );
}

export function AlertSourcesPage() {
  const { can } = useRole();
  const manage = can("manageIntegrations");
  const [{ data, fetching, error }] = useLiveQuery<{ alertSources: { nodes: AlertSourceRow[] } | null }>({
    query: AlertSourcesQuery,
    context: listContext("AlertSource"),
  });
  const [services] = useQuery<{ services: { nodes: ServiceOption[] } | null }>({
    query: ServiceOptionsQuery,
    pause: !manage,
  });
  const sources = data?.alertSources?.nodes ?? [];
  return (
    <>
      <PageHeader title="Alert sources">
        <p>Monitoring tools open, update and resolve incidents by posting alerts to a source’s URL.</p>
      </PageHeader>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : sources.length === 0 ? (
        <p className="empty">No alert sources yet.</p>
      ) : (
        <ul className="card-list" aria-label="Alert sources">
          {sources.map((source) => (
            <SourceCard key={source.rowId} source={source} manage={manage} />
          ))}
        </ul>
      )}
      {manage ? (
        <CreateSourceForm services={services.data?.services?.nodes ?? []} />
      ) : (
        <p className="muted">Owners and admins add and change alert sources.</p>
      )}
    </>
  );
}
