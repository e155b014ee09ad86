/** Who changed what, newest first, filtered by action, kind of record and person. */
import { Fragment, useState } from "react";
import { useSearchParams } from "react-router";
import { gql } from "urql";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { Pagination } from "../../ui/Pagination.tsx";
import { useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";

const PAGE_SIZE = 50;
const ACTIONS = ["insert", "update", "delete"];
const ACTION_WORDS: Record<string, string> = { insert: "Created", update: "Changed", delete: "Deleted" };
const TABLES = [
  "incidents",
  "incident_updates",
  "incident_services",
  "incident_attachments",
  "services",
  "service_groups",
  "maintenance_windows",
  "maintenance_services",
  "organization_memberships",
  "organization_invitations",
  "organizations",
  "status_page_settings",
  "api_keys",
  "webhook_endpoints",
  "webhook_deliveries",
  "chat_integrations",
  "alert_sources",
  "incident_alerts",
  "subscribers",
  "subscriber_services",
];

const AuditLogQuery = gql`
  query AuditLog($condition: AuditLogCondition, $first: Int!, $offset: Int!) {
    auditLogs(condition: $condition, orderBy: [OCCURRED_AT_DESC], first: $first, offset: $offset) {
      totalCount
      nodes {
        rowId
        occurredAt
        action
        targetTable
        targetId
        changes
        actorApiKeyId
        actorUser {
          name
          email
        }
      }
    }
    organizationMemberships {
      nodes {
        userId
        user {
          name
        }
      }
    }
  }
`;

interface AuditEntry {
  rowId: string;
  occurredAt: string;
  action: string;
  targetTable: string;
  targetId: string | null;
  changes: unknown;
  actorApiKeyId: string | null;
  actorUser: { name: string; email: string } | null;
}

export function AuditLogPage() {
  const { can } = useRole();
  const [params, setParams] = useSearchParams();
  const [open, setOpen] = useState<string | null>(null);
  const action = params.get("action") ?? "";
  const table = params.get("table") ?? "";
  const actor = params.get("actor") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const condition = {
    ...(action && { action }),
    ...(table && { targetTable: table }),
    ...(actor && { actorUserId: actor }),
  };
  const [{ data, fetching, error }] = useLiveQuery<{
    auditLogs: { totalCount: number; nodes: AuditEntry[] } | null;
    organizationMemberships: { nodes: { userId: string; user: { name: string } | null }[] } | null;
  }>({
    query: AuditLogQuery,
    variables: { condition, first: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
    pause: !can("readAuditLog"),
  });
  if (!can("readAuditLog")) return <p role="alert">Only owners and admins can read the audit log.</p>;

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    if (key !== "page") next.delete("page");
    setParams(next);
  };
  const entries = data?.auditLogs?.nodes ?? [];
  return (
    <>
      <PageHeader title="Audit log" />
      <div className="filters">
        <div className="filters__select">
          <label htmlFor="audit-action">Action</label>
          <select id="audit-action" value={action} onChange={(e) => setFilter("action", e.target.value)}>
            <option value="">Any</option>
            {ACTIONS.map((value) => (
              <option key={value} value={value}>
                {ACTION_WORDS[value]}
              </option>
            ))}
          </select>
        </div>
        <div className="filters__select">
          <label htmlFor="audit-table">Record</label>
          <select id="audit-table" value={table} onChange={(e) => setFilter("table", e.target.value)}>
            <option value="">Any</option>
            {TABLES.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="filters__select">
          <label htmlFor="audit-actor">Person</label>
          <select id="audit-actor" value={actor} onChange={(e) => setFilter("actor", e.target.value)}>
            <option value="">Anyone</option>
            {(data?.organizationMemberships?.nodes ?? []).map((member) => (
              <option key={member.userId} value={member.userId}>
                {member.user?.name ?? member.userId}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : entries.length === 0 ? (
        <p className="empty">Nothing recorded for these filters.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Audit log entries</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <Fragment key={entry.rowId}>
                  <tr>
                    <td>{formatDateTime(entry.occurredAt)}</td>
                    <td>{entry.actorUser?.name ?? (entry.actorApiKeyId ? "An API key" : "System")}</td>
                    <td>
                      {ACTION_WORDS[entry.action] ?? entry.action} {humanize(entry.targetTable).toLowerCase()}
                    </td>
                    <td>
                      <button
                        type="button"
                        className="btn btn--small"
                        aria-expanded={open === entry.rowId}
                        onClick={() => setOpen(open === entry.rowId ? null : entry.rowId)}
                      >
                        {open === entry.rowId ? "Hide" : "Show"} changes
                      </button>
                    </td>
                  </tr>
                  {open === entry.rowId && (
                    <tr>
                      <td colSpan={4}>
                        <pre className="changes">{JSON.stringify(entry.changes, null, 2)}</pre>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={page}
        pageSize={PAGE_SIZE}
        total={data?.auditLogs?.totalCount ?? 0}
        onPage={(p) => setFilter("page", String(p))}
      />
    </>
  );
}
