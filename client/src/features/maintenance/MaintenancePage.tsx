import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { formatDateTime } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { ServiceOptionsQuery, type ServiceOption } from "../incidents/queries.ts";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import { MaintenanceForm } from "./MaintenanceForm.tsx";
import { CancelMaintenanceMutation, MaintenanceQuery, type MaintenanceRow } from "./queries.ts";

function MaintenanceItem({
  window: maintenance,
  services,
  editable,
  onChanged,
}: {
  window: MaintenanceRow;
  services: ServiceOption[];
  editable: boolean;
  onChanged(): void;
}) {
  const [editing, setEditing] = useState(false);
  const [canceled, cancel] = useMutation(CancelMaintenanceMutation);
  const open = maintenance.status === "scheduled" || maintenance.status === "in_progress";
  return (
    <li className="card">
      <div className="service-row__head">
        <h3>{maintenance.title}</h3>
        <StatusBadge value={maintenance.status} />
      </div>
      <p>
        {formatDateTime(maintenance.startsAt)} – {formatDateTime(maintenance.endsAt)}
      </p>
      {maintenance.body && <p>{maintenance.body}</p>}
      <p className="muted">
        {maintenance.maintenanceServices.nodes.map((s) => s.service?.name).join(", ") || "No services listed"}
      </p>
      {editable && open && (
        <div className="form-actions">
          {maintenance.status === "scheduled" && (
            <button type="button" className="btn" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              {editing ? "Close editor" : "Edit"}
            </button>
          )}
          <button
            type="button"
            className="btn btn--danger"
            disabled={canceled.fetching}
            onClick={() => {
              if (window.confirm(`Cancel “${maintenance.title}”?`)) {
                void cancel({ maintenanceWindowId: maintenance.rowId }).then(onChanged);
              }
            }}
          >
            Cancel maintenance
          </button>
        </div>
      )}
      <ErrorNotice error={canceled.error} />
      {editing && (
        <MaintenanceForm
          existing={maintenance}
          services={services}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </li>
  );
}

export function MaintenancePage() {
  const { can } = useRole();
  const editable = can("manageMaintenance");
  const [{ data, fetching, error }, reexecute] = useLiveQuery<{
    maintenanceWindows: { nodes: MaintenanceRow[] } | null;
  }>({
    query: MaintenanceQuery,
    context: listContext("MaintenanceWindow", "MaintenanceService"),
  });
  const [{ data: serviceData }] = useQuery<{ services: { nodes: ServiceOption[] } | null }>({
    query: ServiceOptionsQuery,
  });
  const [scheduling, setScheduling] = useState(false);
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const services = serviceData?.services?.nodes ?? [];
  const windows = data?.maintenanceWindows?.nodes ?? [];

  return (
    <>
      <PageHeader
        title="Maintenance"
        actions={
          editable && (
            <button
              type="button"
              className="btn btn--primary"
              aria-expanded={scheduling}
              onClick={() => setScheduling(!scheduling)}
            >
              {scheduling ? "Close" : "Schedule maintenance"}
            </button>
          )
        }
      />
      {scheduling && (
        <section className="card" aria-label="Schedule maintenance">
          <MaintenanceForm
            services={services}
            onSaved={() => {
              setScheduling(false);
              refresh();
            }}
          />
        </section>
      )}
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : windows.length === 0 ? (
        <p className="empty">No maintenance scheduled.</p>
      ) : (
        <ul className="card-list">
          {windows.map((maintenance) => (
            <MaintenanceItem
              key={maintenance.rowId}
              window={maintenance}
              services={services}
              editable={editable}
              onChanged={refresh}
            />
          ))}
        </ul>
      )}
    </>
  );
}
