/**
 * The public status files as the page reads them: the Statuspage v2 shapes the server writes
 * (shared with it, so the two cannot drift) plus the uptime file.
 */
import type {
  ComponentJson,
  ComponentStatus,
  IncidentJson,
  IncidentUpdateJson,
  MaintenanceJson,
  PageJson,
  StatusJson,
  UptimeDayJson,
} from "../../../../server/src/public/snapshot.ts";

export type { ComponentJson, ComponentStatus, IncidentJson, IncidentUpdateJson, MaintenanceJson, UptimeDayJson };

export interface Summary {
  page: PageJson;
  status: StatusJson;
  components: ComponentJson[];
  incidents: IncidentJson[];
  scheduled_maintenances: MaintenanceJson[];
}

export interface IncidentsFile {
  page: PageJson;
  incidents: IncidentJson[];
}

export interface ComponentUptime {
  id: string;
  name: string;
  uptime_percent: number | null;
  /** Null for a service too new to have any day recorded. */
  days: UptimeDayJson[] | null;
}

/**
 * `/status/<slug>/api/v2/uptime.json`: the snapshot's 90 days per public service. It has no
 * stream of its own; it is read again whenever the summary stream announces a new version.
 */
export interface UptimeFile {
  page: PageJson;
  uptime: { days: number; method: string; components: ComponentUptime[] };
}
