import type { SectionPage } from "../shell/SectionLayout.tsx";

/** The integrations section: webhooks and chat exist only for owners and admins; sources all see. */
export const INTEGRATION_PAGES: SectionPage[] = [
  { to: "/integrations/webhooks", label: "Webhooks", permission: "manageIntegrations" },
  { to: "/integrations/chat", label: "Chat", permission: "manageIntegrations" },
  { to: "/integrations/alert-sources", label: "Alert sources" },
];
