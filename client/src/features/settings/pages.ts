import type { SectionPage } from "../shell/SectionLayout.tsx";

/** The settings section: the status page all read; subscribers for admins; the organization for owners. */
export const SETTINGS_PAGES: SectionPage[] = [
  { to: "/settings/status-page", label: "Status page" },
  { to: "/settings/subscribers", label: "Subscribers", permission: "manageSubscribers" },
  { to: "/settings/organization", label: "Organization", permission: "manageOrganization" },
];
