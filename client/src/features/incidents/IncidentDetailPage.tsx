/**
 * One incident: its state, the actions the role allows (acknowledge, post an update, resolve,
 * reopen), the timeline, the postmortem and attachments. Changes by others arrive live.
 */
import { useState } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import { Attachments } from "./Attachments.tsx";
import { PostmortemEditor } from "./PostmortemEditor.tsx";
import { PostUpdateForm } from "./PostUpdateForm.tsx";
import {
  AcknowledgeMutation,
  IncidentQuery,
  ServiceOptionsQuery,
  type IncidentDetail,
  type ServiceOption,
} from "./queries.ts";
import { ResolveForm } from "./ResolveForm.tsx";
import { Timeline } from "./Timeline.tsx";

type Panel = "update" | "resolve";

export function IncidentDetailPage() {
  const { incidentId = "" } = useParams();
  const { can } = useRole();
  const [{ data, fetching, error }, reexecute] = useLiveQuery<{ incident: IncidentDetail | null }>({
    query: IncidentQuery,
    context: listContext("IncidentUpdate", "IncidentService", "IncidentAttachment"),
    variables: { id: incidentId },
  });
  const [{ data: serviceData }] = useQuery<{ services: { nodes: ServiceOption[] } | null }>({
    query: ServiceOptionsQuery,
  });
  const [acknowledged, acknowledge] = useMutation(AcknowledgeMutation);
  const [panel, setPanel] = useState<Panel>("update");
  const refresh = () => reexecute({ requestPolicy: "network-only" });

  if (fetching && !data) return <Loading />;
  const incident = data?.incident;
  if (!incident) {
    return (
      <>
        <ErrorNotice error={error} />
        {!error && <p role="alert">This incident does not exist in this organization.</p>}
        <Link to="/incidents">Back to incidents</Link>
      </>
    );
  }
  const mayEdit = can("manageIncidents");
  const resolved = incident.status === "resolved";

  return (
    <>
      <p>
        <Link to="/incidents">← Incidents</Link>
      </p>
      <PageHeader
        title={incident.title}
        actions={
          mayEdit &&
          !resolved &&
          !incident.acknowledgedAt && (
            <button
              type="button"
              className="btn"
              disabled={acknowledged.fetching}
              onClick={() => void acknowledge({ incidentId: incident.rowId })}
            >
              Acknowledge
            </button>
          )
        }
      >
        <p className="badges">
          <StatusBadge value={incident.status} />
          <StatusBadge value={incident.severity} label={`${humanize(incident.severity)} severity`} />
          <StatusBadge value={incident.impact} label={`Impact: ${humanize(incident.impact)}`} />
          <StatusBadge value={incident.visibility} />
        </p>
      </PageHeader>
      <ErrorNotice error={acknowledged.error} />
      <dl className="facts">
        <div>
          <dt>Started</dt>
          <dd>{formatDateTime(incident.startedAt)}</dd>
        </div>
        <div>
          <dt>Acknowledged</dt>
          <dd>{formatDateTime(incident.acknowledgedAt)}</dd>
        </div>
        <div>
          <dt>Resolved</dt>
          <dd>{formatDateTime(incident.resolvedAt)}</dd>
        </div>
        <div>
          <dt>Reopened</dt>
          <dd>{incident.reopenedCount} times</dd>
        </div>
        <div>
          <dt>Declared by</dt>
          <dd>{incident.createdBy?.name ?? "—"}</dd>
        </div>
        <div>
          <dt>Affected services</dt>
          <dd>
            {incident.incidentServices.nodes.length === 0
              ? "None"
              : incident.incidentServices.nodes.map((claim) => (
                  <span key={claim.serviceId} className="claim">
                    {claim.service?.name}: <StatusBadge value={claim.status} />
                  </span>
                ))}
          </dd>
        </div>
      </dl>
      {incident.description && <p className="description">{incident.description}</p>}
      {(incident.rootCause || incident.resolutionSummary) && (
        <dl className="facts">
          <div>
            <dt>Root cause</dt>
            <dd>{incident.rootCause ?? "—"}</dd>
          </div>
          <div>
            <dt>Resolution</dt>
            <dd>{incident.resolutionSummary ?? "—"}</dd>
          </div>
        </dl>
      )}

      <div className="detail-columns">
        <section aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Timeline</h2>
          <Timeline entries={incident.incidentUpdates.nodes} />
        </section>
        {mayEdit && (
          <section aria-labelledby="respond-heading" className="card">
            <h2 id="respond-heading">{resolved ? "Reopen" : "Respond"}</h2>
            {!resolved && (
              <div className="tabs" role="group" aria-label="Action">
                <button
                  type="button"
                  className={`btn ${panel === "update" ? "btn--selected" : ""}`}
                  aria-pressed={panel === "update"}
                  onClick={() => setPanel("update")}
                >
                  Post update
                </button>
                <button
                  type="button"
                  className={`btn ${panel === "resolve" ? "btn--selected" : ""}`}
                  aria-pressed={panel === "resolve"}
                  onClick={() => setPanel("resolve")}
                >
                  Resolve
                </button>
              </div>
            )}
            {resolved || panel === "update" ? (
              <PostUpdateForm
                key={`${incident.status}-${incident.incidentUpdates.nodes.length}`}
                incident={incident}
                services={serviceData?.services?.nodes ?? []}
                onPosted={refresh}
              />
            ) : (
              <ResolveForm incident={incident} onResolved={refresh} />
            )}
          </section>
        )}
      </div>

      <section aria-labelledby="postmortem-heading">
        <h2 id="postmortem-heading">Postmortem</h2>
        <PostmortemEditor key={incident.postmortemPublishedAt ?? "draft"} incident={incident} editable={mayEdit} />
      </section>
      <section aria-labelledby="attachments-heading">
        <h2 id="attachments-heading">Attachments</h2>
        <Attachments
          incidentId={incident.rowId}
          attachments={incident.incidentAttachments.nodes}
          canUpload={can("uploadAttachments")}
          onUploaded={refresh}
        />
      </section>
    </>
  );
}
