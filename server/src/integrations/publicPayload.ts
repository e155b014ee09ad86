/**
 * What an event says to a receiver that was not given internal data (include_internal off):
 * the same shape without the root cause, the resolution summary and hidden services, which
 * the status page does not show either.
 */
type Json = Record<string, unknown>;

const visible = (services: unknown) =>
  Array.isArray(services) ? services.filter((service) => (service as Json | null)?.hidden !== true) : services;

export function withoutInternalDetails(payload: Json): Json {
  const copy = structuredClone(payload);
  const incident = copy.incident as Json | undefined;
  if (incident) {
    delete incident.root_cause;
    delete incident.resolution_summary;
    incident.services = visible(incident.services);
  }
  const update = copy.incident_update as Json | undefined;
  if (update) update.affected_services = visible(update.affected_services);
  const maintenance = copy.maintenance as Json | undefined;
  if (maintenance) maintenance.services = visible(maintenance.services);
  return copy;
}
