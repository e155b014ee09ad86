/**
 * Incidents, newest first, with status and severity filters, a title search and paging. The
 * filters live in the URL, so a filtered list can be shared and survives a reload.
 */
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { formatDateTime } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { Pagination } from "../../ui/Pagination.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { Allowed } from "../session/Allowed.tsx";
import {
  INCIDENT_STATUSES,
  SEVERITIES,
  SearchIncidentsQuery,
  type IncidentStatus,
  type IncidentSummary,
  type Severity,
} from "./queries.ts";
import { humanize } from "../../lib/format.ts";

const PAGE_SIZE = 20;
/** "Open" is the default view: what needs attention now. */
const OPEN_STATUSES: IncidentStatus[] = ["investigating", "identified", "monitoring"];

function statusesFor(filter: string | null): IncidentStatus[] | null {
  if (filter === "all") return null;
  if (filter && (INCIDENT_STATUSES as readonly string[]).includes(filter)) return [filter as IncidentStatus];
  return OPEN_STATUSES;
}

export function IncidentListPage() {
  const [params, setParams] = useSearchParams();
  const statusFilter = params.get("status") ?? "open";
  const severityFilter = params.get("severity") ?? "";
  const search = params.get("q") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [searchDraft, setSearchDraft] = useState(search);

  const [{ data, fetching, error }] = useLiveQuery<{
    searchIncidents: { totalCount: number; nodes: IncidentSummary[] } | null;
  }>({
    query: SearchIncidentsQuery,
    context: listContext("Incident"),
    variables: {
      query: search || null,
      statuses: statusesFor(statusFilter),
      severities: severityFilter ? [severityFilter as Severity] : null,
      first: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    },
  });

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (!("page" in changes)) next.delete("page");
    setParams(next);
  };
  const submitSearch = (event: FormEvent) => {
    event.preventDefault();
    update({ q: searchDraft.trim() });
  };

  const incidents = data?.searchIncidents?.nodes ?? [];
  const total = data?.searchIncidents?.totalCount ?? 0;
  return (
    <>
      <PageHeader
        title="Incidents"
        actions={
          <Allowed permission="manageIncidents">
            <Link to="/incidents/new" className="btn btn--primary">
              Declare incident
            </Link>
          </Allowed>
        }
      />
      <div className="filters" role="search">
        <form onSubmit={submitSearch} className="filters__search">
          <label htmlFor="incident-search">Search titles</label>
          <input
            id="incident-search"
            type="search"
            value={searchDraft}
            onChange={(e) => setSearchDraft(e.target.value)}
          />
          <button type="submit" className="btn">
            Search
          </button>
        </form>
        <div className="filters__select">
          <label htmlFor="incident-status-filter">Status</label>
          <select id="incident-status-filter" value={statusFilter} onChange={(e) => update({ status: e.target.value })}>
            <option value="open">Open</option>
            <option value="all">All</option>
            {INCIDENT_STATUSES.map((status) => (
              <option key={status} value={status}>
                {humanize(status)}
              </option>
            ))}
          </select>
        </div>
        <div className="filters__select">
          <label htmlFor="incident-severity-filter">Severity</label>
          <select
            id="incident-severity-filter"
            value={severityFilter}
            onChange={(e) => update({ severity: e.target.value })}
          >
            <option value="">Any</option>
            {SEVERITIES.map((severity) => (
              <option key={severity} value={severity}>
                {humanize(severity)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : incidents.length === 0 ? (
        <p className="empty">No incidents match these filters.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Incidents ({total})</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Status</th>
                <th scope="col">Severity</th>
                <th scope="col">Started</th>
                <th scope="col">Visibility</th>
              </tr>
            </thead>
            <tbody>
              {incidents.map((incident) => (
                <tr key={incident.rowId}>
                  <td>
                    <Link to={`/incidents/${incident.rowId}`}>{incident.title}</Link>
                  </td>
                  <td>
                    <StatusBadge value={incident.status} />
                    {!incident.acknowledgedAt && incident.status !== "resolved" && (
                      <span className="badge badge--bad">Unacknowledged</span>
                    )}
                  </td>
                  <td>
                    <StatusBadge value={incident.severity} />
                  </td>
                  <td>{formatDateTime(incident.startedAt)}</td>
                  <td>{humanize(incident.visibility)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination page={page} pageSize={PAGE_SIZE} total={total} onPage={(p) => update({ page: String(p) })} />
    </>
  );
}
