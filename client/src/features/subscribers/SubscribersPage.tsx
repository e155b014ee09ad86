/**
 * The status page's email subscribers (owners and admins: addresses are personal data, the
 * server shows them to nobody else): the list with each one's state and services, removing
 * one, and importing a pasted list.
 */
import { useState, type FormEvent } from "react";
import { gql, useMutation, useQuery } from "urql";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { Pagination } from "../../ui/Pagination.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { ServiceOptionsQuery, type ServiceOption } from "../incidents/queries.ts";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import { IMPORT_LIMIT, parseImportList } from "./importList.ts";

const PAGE_SIZE = 50;
const STATUSES = ["pending", "confirmed", "unsubscribed"] as const;
type SubscriberStatus = (typeof STATUSES)[number];

interface SubscriberRow {
  rowId: string;
  email: string;
  status: SubscriberStatus;
  source: "page" | "import";
  confirmedAt: string | null;
  createdAt: string;
  subscriberServices: { nodes: { serviceId: string; service: { name: string } | null }[] };
}

const SubscribersQuery = gql`
  query Subscribers($condition: SubscriberCondition, $first: Int!, $offset: Int!) {
    subscribers(condition: $condition, orderBy: [CREATED_AT_DESC], first: $first, offset: $offset) {
      totalCount
      nodes {
        rowId
        email
        status
        source
        confirmedAt
        createdAt
        subscriberServices {
          nodes {
            serviceId
            service {
              name
            }
          }
        }
      }
    }
  }
`;
const DeleteSubscriberMutation = gql`
  mutation DeleteSubscriber($rowId: UUID!) {
    deleteSubscriber(input: { rowId: $rowId }) {
      subscriber {
        rowId
      }
    }
  }
`;
const ImportSubscribersMutation = gql`
  mutation ImportSubscribers($emails: [String]!, $serviceIds: [UUID]!, $skipConfirmation: Boolean!) {
    importSubscribers(input: { emails: $emails, serviceIds: $serviceIds, skipConfirmation: $skipConfirmation }) {
      subscribers {
        rowId
        status
      }
    }
  }
`;

function RemoveButton({ subscriber }: { subscriber: SubscriberRow }) {
  const [result, remove] = useMutation(DeleteSubscriberMutation);
  return (
    <>
      <button
        type="button"
        className="btn btn--small btn--danger"
        disabled={result.fetching}
        onClick={() => {
          if (window.confirm(`Remove ${subscriber.email}? They get no more updates.`)) {
            void remove({ rowId: subscriber.rowId });
          }
        }}
      >
        Remove<span className="sr-only"> {subscriber.email}</span>
      </button>
      <ErrorNotice error={result.error} />
    </>
  );
}

export function ImportForm({ services }: { services: ServiceOption[] }) {
  const [result, importSubscribers] = useMutation(ImportSubscribersMutation);
  const [text, setText] = useState("");
  const [serviceIds, setServiceIds] = useState<string[]>([]);
  const [skipConfirmation, setSkipConfirmation] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [imported, setImported] = useState<number | null>(null);
  const parsed = parseImportList(text);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setImported(null);
    const found =
      parsed.emails.length === 0
        ? "Enter at least one email address."
        : parsed.invalid.length > 0
          ? `Correct or remove what is not an address: ${parsed.invalid.join(", ")}.`
          : parsed.emails.length > IMPORT_LIMIT
            ? `Import at most ${IMPORT_LIMIT} addresses at a time.`
            : null;
    setProblem(found);
    if (found) return;
    const answer = await importSubscribers({ emails: parsed.emails, serviceIds, skipConfirmation });
    const changed = answer.data?.importSubscribers?.subscribers as unknown[] | null | undefined;
    if (!changed) return;
    setImported(changed.length);
    setText("");
  };

  const summary = [
    `${parsed.emails.length} address${parsed.emails.length === 1 ? "" : "es"}`,
    parsed.duplicates > 0 ? `${parsed.duplicates} duplicate${parsed.duplicates === 1 ? "" : "s"} left out` : null,
    parsed.invalid.length > 0 ? `${parsed.invalid.length} not an address` : null,
  ]
    .filter(Boolean)
    .join(", ");

  return (
    <form onSubmit={submit} aria-label="Import subscribers" className="card form-grid" noValidate>
      <h2>Import subscribers</h2>
      <Field
        label="Email addresses"
        hint={`One or more per line, separated by commas or spaces; “Name <address>” works too. ${summary}.`}
        problem={problem}
      >
        <textarea className="import-list" value={text} onChange={(e) => setText(e.target.value)} />
      </Field>
      {services.length > 0 && (
        <fieldset className="checkbox-list">
          <legend>Services they follow</legend>
          <p className="field__hint">None chosen: every service.</p>
          {services.map((service) => (
            <label key={service.rowId} className="inline-choice">
              <input
                type="checkbox"
                checked={serviceIds.includes(service.rowId)}
                onChange={(e) =>
                  setServiceIds(
                    e.target.checked ? [...serviceIds, service.rowId] : serviceIds.filter((id) => id !== service.rowId),
                  )
                }
              />
              {service.name}
            </label>
          ))}
        </fieldset>
      )}
      <label className="inline-choice">
        <input type="checkbox" checked={skipConfirmation} onChange={(e) => setSkipConfirmation(e.target.checked)} />
        They already consented to these notifications: confirm them without a confirmation email
      </label>
      <ErrorNotice error={result.error} />
      {imported !== null && (
        <p role="status" className="success-text">
          {imported} subscriber{imported === 1 ? "" : "s"} added or changed.{" "}
          {skipConfirmation ? "They are confirmed." : "Each new address gets a confirmation email."}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Import
        </button>
      </div>
    </form>
  );
}

export function SubscribersPage() {
  const { can } = useRole();
  const allowed = can("manageSubscribers");
  const [status, setStatus] = useState<SubscriberStatus | "">("");
  const [page, setPage] = useState(1);
  const [{ data, fetching, error }] = useLiveQuery<{
    subscribers: { totalCount: number; nodes: SubscriberRow[] } | null;
  }>({
    query: SubscribersQuery,
    variables: { condition: status ? { status } : null, first: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
    context: listContext("Subscriber"),
    pause: !allowed,
  });
  const [services] = useQuery<{ services: { nodes: ServiceOption[] } | null }>({
    query: ServiceOptionsQuery,
    pause: !allowed,
  });
  if (!allowed) return <p role="alert">Only owners and admins see the subscribers.</p>;
  const subscribers = data?.subscribers?.nodes ?? [];
  return (
    <>
      <PageHeader title="Subscribers">
        <p>People who follow the status page by email. Only confirmed subscribers are notified.</p>
      </PageHeader>
      <div className="filters">
        <Field label="Status">
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as SubscriberStatus | "");
              setPage(1);
            }}
          >
            <option value="">Any</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : subscribers.length === 0 ? (
        <p className="empty">No subscribers{status ? ` with this status` : ""}.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Subscribers, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">Services</th>
                <th scope="col">Signed up</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {subscribers.map((subscriber) => (
                <tr key={subscriber.rowId}>
                  <th scope="row">{subscriber.email}</th>
                  <td>
                    <StatusBadge value={subscriber.status} />
                  </td>
                  <td>
                    {subscriber.subscriberServices.nodes.length === 0
                      ? "All services"
                      : subscriber.subscriberServices.nodes
                          .map((s) => s.service?.name ?? "A removed service")
                          .join(", ")}
                  </td>
                  <td>
                    {formatDateTime(subscriber.createdAt)}
                    <div className="muted">{subscriber.source === "import" ? "Imported" : "On the status page"}</div>
                  </td>
                  <td>
                    <RemoveButton subscriber={subscriber} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination page={page} pageSize={PAGE_SIZE} total={data?.subscribers?.totalCount ?? 0} onPage={setPage} />
      <ImportForm services={services.data?.services?.nodes ?? []} />
    </>
  );
}
