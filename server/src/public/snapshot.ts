/**
 * The shape of a status snapshot's body, as app_private.build_status_snapshot writes it
 * (Statuspage v2 vocabulary). URLs in it are page-relative ("/status/<slug>/…"); the web
 * process makes them absolute when it serialises a version.
 */
export type ComponentStatus =
  "operational" | "degraded_performance" | "partial_outage" | "major_outage" | "under_maintenance";

export interface PageJson {
  id: string;
  name: string;
  url: string;
  time_zone: string;
  updated_at: string | null;
}

export interface StatusJson {
  indicator: "none" | "minor" | "major" | "critical";
  description: string;
}

export interface ComponentJson {
  id: string;
  name: string;
  status: ComponentStatus;
  created_at: string;
  updated_at: string;
  position: number;
  description: string | null;
  showcase: boolean;
  start_date: string | null;
  group_id: string | null;
  page_id: string;
  group: boolean;
  only_show_if_degraded: boolean;
  /** Group rows only: the member component ids, and whether the page shows the group folded. */
  components?: string[];
  collapsed?: boolean;
}

export interface IncidentUpdateJson {
  id: string;
  incident_id: string;
  status: string;
  body: string;
  created_at: string;
  updated_at: string;
  display_at: string;
  affected_components:
    { code: string; name: string; old_status: ComponentStatus; new_status: ComponentStatus }[] | null;
  deliver_notifications: boolean;
  custom_tweet: null;
  tweet_id: null;
}

export interface IncidentJson {
  id: string;
  name: string;
  status: string;
  impact: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  monitoring_at: string | null;
  resolved_at: string | null;
  shortlink: string;
  page_id: string;
  incident_updates: IncidentUpdateJson[];
  components: ComponentJson[];
}

export interface MaintenanceJson extends IncidentJson {
  scheduled_for: string;
  scheduled_until: string;
}

export interface UptimeDayJson {
  date: string;
  uptime_percent: number | null;
  major_outage_seconds: number;
  partial_outage_seconds: number;
  degraded_seconds: number;
  maintenance_seconds: number;
}

export interface SnapshotBody {
  page: PageJson;
  status: StatusJson;
  components: ComponentJson[];
  /** Unresolved public incidents. */
  incidents: IncidentJson[];
  /** Scheduled and in-progress maintenance. */
  scheduled_maintenances: MaintenanceJson[];
  /** The latest 50 public incidents, any status (incidents.json, feeds). */
  incident_history: IncidentJson[];
  /** The latest 50 maintenance windows, any status (scheduled-maintenances.json, feeds). */
  maintenance_history: MaintenanceJson[];
  uptime: {
    days: number;
    method: string;
    components: { id: string; name: string; uptime_percent: number | null; days: UptimeDayJson[] }[];
  };
  support_url: string | null;
  description: string | null;
}

export interface StatusSnapshot {
  organizationId: string;
  slug: string;
  version: number;
  etag: string;
  body: SnapshotBody;
}
