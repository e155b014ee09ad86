/**
 * Services, in their groups and order, with their current status. Admins and owners create,
 * group, order, hide and remove them, and may set a status by hand; everyone else reads.
 */
import { useState, type FormEvent } from "react";
import { useClient, useMutation } from "urql";
import { fromCombinedError, type CodedError } from "../../lib/errors.ts";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { moveItem } from "../../lib/ordering.ts";
import { requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { SERVICE_STATUSES, type ServiceStatus } from "../incidents/queries.ts";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import {
  CreateGroupMutation,
  CreateServiceMutation,
  DeleteGroupMutation,
  DeleteServiceMutation,
  ServicesQuery,
  UpdateGroupMutation,
  UpdateServiceMutation,
  type ServiceGroupRow,
  type ServiceRow,
} from "./queries.ts";

interface ServicesData {
  serviceGroups: { nodes: ServiceGroupRow[] } | null;
  services: { nodes: ServiceRow[] } | null;
}

function ServiceItem({
  service,
  groups,
  editable,
  onMove,
  first,
  last,
}: {
  service: ServiceRow;
  groups: ServiceGroupRow[];
  editable: boolean;
  onMove(offset: -1 | 1): void;
  first: boolean;
  last: boolean;
}) {
  const [updated, update] = useMutation(UpdateServiceMutation);
  const [deleted, remove] = useMutation(DeleteServiceMutation);
  const patch = (changes: Record<string, unknown>) => void update({ rowId: service.rowId, patch: changes });
  return (
    <li className="service-admin">
      <div className="service-admin__main">
        <span className="service-row__name">{service.name}</span>
        {service.hidden && <span className="badge badge--muted">Hidden from the status page</span>}
        {service.description && <span className="muted">{service.description}</span>}
        <span className="muted">since {formatDateTime(service.statusChangedAt)}</span>
      </div>
      {editable ? (
        <div className="service-admin__controls">
          <label className="sr-only" htmlFor={`status-${service.rowId}`}>
            Status of {service.name}
          </label>
          <select
            id={`status-${service.rowId}`}
            value={service.status}
            onChange={(e) => patch({ status: e.target.value as ServiceStatus })}
          >
            {SERVICE_STATUSES.map((status) => (
              <option key={status} value={status}>
                {humanize(status)}
              </option>
            ))}
          </select>
          <label className="sr-only" htmlFor={`group-${service.rowId}`}>
            Group of {service.name}
          </label>
          <select
            id={`group-${service.rowId}`}
            value={service.groupId ?? ""}
            onChange={(e) => patch({ groupId: e.target.value || null })}
          >
            <option value="">No group</option>
            {groups.map((group) => (
              <option key={group.rowId} value={group.rowId}>
                {group.name}
              </option>
            ))}
          </select>
          <label className="inline-choice">
            <input type="checkbox" checked={service.hidden} onChange={(e) => patch({ hidden: e.target.checked })} />
            Hidden
          </label>
          <button type="button" className="btn btn--small" disabled={first} onClick={() => onMove(-1)}>
            <span aria-hidden="true">↑</span>
            <span className="sr-only">Move {service.name} up</span>
          </button>
          <button type="button" className="btn btn--small" disabled={last} onClick={() => onMove(1)}>
            <span aria-hidden="true">↓</span>
            <span className="sr-only">Move {service.name} down</span>
          </button>
          <button
            type="button"
            className="btn btn--small btn--danger"
            disabled={deleted.fetching}
            onClick={() => {
              if (window.confirm(`Delete ${service.name}? Its history goes with it.`))
                void remove({ rowId: service.rowId });
            }}
          >
            Delete<span className="sr-only"> {service.name}</span>
          </button>
        </div>
      ) : (
        <StatusBadge value={service.status} />
      )}
      <ErrorNotice error={updated.error ?? deleted.error} />
    </li>
  );
}

function CreateServiceForm({ groups, nextPosition }: { groups: ServiceGroupRow[]; nextPosition: number }) {
  const [result, create] = useMutation(CreateServiceMutation);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [groupId, setGroupId] = useState("");
  const [hidden, setHidden] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = requiredProblem(name, "a name");
    setProblem(found);
    if (found) return;
    const created = await create({
      service: {
        name: name.trim(),
        description: description.trim() || null,
        groupId: groupId || null,
        hidden,
        position: nextPosition,
      },
    });
    if (created.error) return;
    setName("");
    setDescription("");
  };
  return (
    <form onSubmit={submit} aria-label="Add a service" className="card form-grid" noValidate>
      <h2>Add a service</h2>
      <Field label="Service name" problem={problem}>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <Field label="Description">
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <Field label="Group">
        <select value={groupId} onChange={(e) => setGroupId(e.target.value)}>
          <option value="">No group</option>
          {groups.map((group) => (
            <option key={group.rowId} value={group.rowId}>
              {group.name}
            </option>
          ))}
        </select>
      </Field>
      <label className="inline-choice">
        <input type="checkbox" checked={hidden} onChange={(e) => setHidden(e.target.checked)} />
        Hide from the public status page
      </label>
      <ErrorNotice error={result.error} />
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Add service
        </button>
      </div>
    </form>
  );
}

function CreateGroupForm({ nextPosition }: { nextPosition: number }) {
  const [result, create] = useMutation(CreateGroupMutation);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = requiredProblem(name, "a name");
    setProblem(found);
    if (found) return;
    const created = await create({ name: name.trim(), position: nextPosition });
    if (!created.error) setName("");
  };
  return (
    <form onSubmit={submit} aria-label="Add a group" className="card form-grid" noValidate>
      <h2>Add a group</h2>
      <Field label="Group name" problem={problem}>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <ErrorNotice error={result.error} />
      <div className="form-actions">
        <button type="submit" className="btn" disabled={result.fetching}>
          Add group
        </button>
      </div>
    </form>
  );
}

function GroupHeader({
  group,
  editable,
  first,
  last,
  onMove,
}: {
  group: ServiceGroupRow;
  editable: boolean;
  first: boolean;
  last: boolean;
  onMove(offset: -1 | 1): void;
}) {
  const [updated, update] = useMutation(UpdateGroupMutation);
  const [deleted, remove] = useMutation(DeleteGroupMutation);
  return (
    <div className="service-group__header">
      <h2>{group.name}</h2>
      {editable && (
        <div className="service-admin__controls">
          <label className="inline-choice">
            <input
              type="checkbox"
              checked={group.collapsed}
              onChange={(e) => void update({ rowId: group.rowId, patch: { collapsed: e.target.checked } })}
            />
            Folded on the status page
          </label>
          <button type="button" className="btn btn--small" disabled={first} onClick={() => onMove(-1)}>
            <span aria-hidden="true">↑</span>
            <span className="sr-only">Move group {group.name} up</span>
          </button>
          <button type="button" className="btn btn--small" disabled={last} onClick={() => onMove(1)}>
            <span aria-hidden="true">↓</span>
            <span className="sr-only">Move group {group.name} down</span>
          </button>
          <button
            type="button"
            className="btn btn--small btn--danger"
            onClick={() => {
              if (window.confirm(`Delete the group ${group.name}? Its services stay, ungrouped.`)) {
                void remove({ rowId: group.rowId });
              }
            }}
          >
            Delete group<span className="sr-only"> {group.name}</span>
          </button>
        </div>
      )}
      <ErrorNotice error={updated.error ?? deleted.error} />
    </div>
  );
}

export function ServicesPage() {
  const client = useClient();
  const { can } = useRole();
  const editable = can("manageServices");
  const [{ data, fetching, error }, reexecute] = useLiveQuery<ServicesData>({
    query: ServicesQuery,
    context: listContext("Service", "ServiceGroup"),
  });
  const [moveErrors, setMoveErrors] = useState<CodedError[] | null>(null);

  if (fetching && !data) return <Loading />;
  const groups = data?.serviceGroups?.nodes ?? [];
  const services = data?.services?.nodes ?? [];
  const sections: { group: ServiceGroupRow | null; members: ServiceRow[] }[] = [
    ...groups.map((group) => ({ group, members: services.filter((s) => s.groupId === group.rowId) })),
    { group: null, members: services.filter((s) => !s.groupId) },
  ];

  const applyPositions = async (
    mutation: typeof UpdateServiceMutation,
    moves: { rowId: string; position: number }[],
  ) => {
    setMoveErrors(null);
    for (const move of moves) {
      const result = await client
        .mutation(mutation, { rowId: move.rowId, patch: { position: move.position } })
        .toPromise();
      if (result.error) return setMoveErrors(fromCombinedError(result.error));
    }
    reexecute({ requestPolicy: "network-only" });
  };

  return (
    <>
      <PageHeader title="Services">
        <p>What customers see on the status page, in this order.</p>
      </PageHeader>
      <ErrorNotice error={error ?? moveErrors} />
      {services.length === 0 && <p className="empty">No services yet.</p>}
      {sections.map(({ group, members }, sectionIndex) =>
        group === null && members.length === 0 ? null : (
          <section key={group?.rowId ?? "ungrouped"} className="service-group card">
            {group ? (
              <GroupHeader
                group={group}
                editable={editable}
                first={sectionIndex === 0}
                last={sectionIndex === groups.length - 1}
                onMove={(offset) => void applyPositions(UpdateGroupMutation, moveItem(groups, group.rowId, offset))}
              />
            ) : (
              <h2>{groups.length > 0 ? "Not in a group" : "All services"}</h2>
            )}
            <ul className="service-admin-list">
              {members.map((service, index) => (
                <ServiceItem
                  key={service.rowId}
                  service={service}
                  groups={groups}
                  editable={editable}
                  first={index === 0}
                  last={index === members.length - 1}
                  onMove={(offset) =>
                    void applyPositions(UpdateServiceMutation, moveItem(members, service.rowId, offset))
                  }
                />
              ))}
            </ul>
          </section>
        ),
      )}
      {editable && (
        <div className="two-columns">
          <CreateServiceForm groups={groups} nextPosition={services.length} />
          <CreateGroupForm nextPosition={groups.length} />
        </div>
      )}
    </>
  );
}
