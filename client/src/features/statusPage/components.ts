/** The page's services in display order: groups with their members, and ungrouped services. */
import type { ComponentJson } from "./types.ts";

export type ServiceSection = { group: ComponentJson | null; services: ComponentJson[] };

const byPosition = (a: ComponentJson, b: ComponentJson) => a.position - b.position || a.name.localeCompare(b.name);

/** A service that asks to be shown only when degraded stays hidden while operational. */
const shown = (component: ComponentJson) => !component.only_show_if_degraded || component.status !== "operational";

export function sectionsOf(components: ComponentJson[]): ServiceSection[] {
  const services = components.filter((c) => !c.group && shown(c));
  const groups = components.filter((c) => c.group).sort(byPosition);
  const sections: ServiceSection[] = groups
    .map((group) => ({ group, services: services.filter((s) => s.group_id === group.id).sort(byPosition) }))
    .filter((section) => section.services.length > 0);
  const ungrouped = services.filter((s) => !s.group_id || !groups.some((g) => g.id === s.group_id)).sort(byPosition);
  if (ungrouped.length > 0) sections.push({ group: null, services: ungrouped });
  return sections;
}

/** The worst status among some services, for a folded group's header. */
const SEVERITY = ["operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"];
export function worstStatus(services: ComponentJson[]): string {
  return services.reduce(
    (worst, s) => (SEVERITY.indexOf(s.status) > SEVERITY.indexOf(worst) ? s.status : worst),
    "operational",
  );
}
