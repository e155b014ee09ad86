import { humanize } from "../../lib/format.ts";
import { SERVICE_STATUSES, type ServiceOption, type ServiceStatus } from "./queries.ts";

/** Per service: whether it is affected and the status claimed for it. */
export type ServiceClaims = Record<string, ServiceStatus | undefined>;

export function ServiceStatusPicker({
  services,
  claims,
  onChange,
  legend = "Affected services",
}: {
  services: ServiceOption[];
  claims: ServiceClaims;
  onChange(claims: ServiceClaims): void;
  legend?: string;
}) {
  if (services.length === 0) return <p className="field__hint">No services yet.</p>;
  return (
    <fieldset className="service-claims">
      <legend>{legend}</legend>
      {services.map((service) => {
        const claimed = claims[service.rowId];
        const checkboxId = `claim-${service.rowId}`;
        return (
          <div key={service.rowId} className="service-claims__row">
            <input
              id={checkboxId}
              type="checkbox"
              checked={claimed !== undefined}
              onChange={(e) =>
                onChange({ ...claims, [service.rowId]: e.target.checked ? "partial_outage" : undefined })
              }
            />
            <label htmlFor={checkboxId}>{service.name}</label>
            <select
              aria-label={`Status of ${service.name}`}
              value={claimed ?? service.status}
              disabled={claimed === undefined}
              onChange={(e) => onChange({ ...claims, [service.rowId]: e.target.value as ServiceStatus })}
            >
              {SERVICE_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {humanize(status)}
                </option>
              ))}
            </select>
          </div>
        );
      })}
    </fieldset>
  );
}

export function claimedStatuses(claims: ServiceClaims): { serviceId: string; status: ServiceStatus }[] {
  return Object.entries(claims)
    .filter((entry): entry is [string, ServiceStatus] => entry[1] !== undefined)
    .map(([serviceId, status]) => ({ serviceId, status }));
}
