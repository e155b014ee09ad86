/** Everything with a session: the landing page, sign-in and sign-up, and the dashboard. */
import { Link, Navigate, Route, Routes } from "react-router";
import { AcceptInvitationPage } from "../auth/AcceptInvitationPage.tsx";
import { AccountPage } from "../auth/AccountPage.tsx";
import { SignInPage } from "../auth/SignInPage.tsx";
import { SignUpPage } from "../auth/SignUpPage.tsx";
import { ApiKeysPage } from "../apiKeys/ApiKeysPage.tsx";
import { AuditLogPage } from "../audit/AuditLogPage.tsx";
import { BillingPage } from "../billing/BillingPage.tsx";
import { AlertSourcesPage } from "../integrations/AlertSourcesPage.tsx";
import { ChatIntegrationsPage } from "../integrations/ChatIntegrationsPage.tsx";
import { INTEGRATION_PAGES } from "../integrations/pages.ts";
import { WebhooksPage } from "../integrations/WebhooksPage.tsx";
import { CreateIncidentPage } from "../incidents/CreateIncidentPage.tsx";
import { IncidentDetailPage } from "../incidents/IncidentDetailPage.tsx";
import { IncidentListPage } from "../incidents/IncidentListPage.tsx";
import { LandingPage } from "../landing/LandingPage.tsx";
import { MaintenancePage } from "../maintenance/MaintenancePage.tsx";
import { MembersPage } from "../members/MembersPage.tsx";
import { MetricsPage } from "../metrics/MetricsPage.tsx";
import { ServicesPage } from "../services/ServicesPage.tsx";
import { homePathFor, RequireOrganization, RequireUser } from "../session/guards.tsx";
import { SessionProvider, useSession } from "../session/SessionContext.tsx";
import { OrganizationSettingsPage } from "../settings/OrganizationSettingsPage.tsx";
import { SETTINGS_PAGES } from "../settings/pages.ts";
import { StatusPageSettingsPage } from "../settings/StatusPageSettingsPage.tsx";
import { SubscribersPage } from "../subscribers/SubscribersPage.tsx";
import { AppShell } from "./AppShell.tsx";
import { CreateOrganizationPage } from "./CreateOrganizationPage.tsx";
import { SectionIndex, SectionLayout } from "./SectionLayout.tsx";

function Home() {
  const session = useSession();
  return session.user ? <Navigate to={homePathFor(session)} replace /> : <LandingPage />;
}

function NotFound() {
  return (
    <main id="main" className="page-status">
      <h1>Page not found</h1>
      <Link to="/">Go to the start page</Link>
    </main>
  );
}

export function Dashboard() {
  return (
    <SessionProvider>
      <Routes>
        <Route path="/" element={<Home />} />
        <Route path="/sign-in" element={<SignInPage />} />
        <Route path="/sign-up" element={<SignUpPage />} />
        <Route path="/accept-invitation" element={<AcceptInvitationPage />} />
        <Route element={<RequireUser />}>
          <Route element={<AppShell />}>
            <Route path="/account" element={<AccountPage />} />
            <Route path="/organizations/new" element={<CreateOrganizationPage />} />
            <Route element={<RequireOrganization />}>
              <Route path="/incidents" element={<IncidentListPage />} />
              <Route path="/incidents/new" element={<CreateIncidentPage />} />
              <Route path="/incidents/:incidentId" element={<IncidentDetailPage />} />
              <Route path="/services" element={<ServicesPage />} />
              <Route path="/maintenance" element={<MaintenancePage />} />
              <Route path="/members" element={<MembersPage />} />
              <Route path="/audit-log" element={<AuditLogPage />} />
              <Route path="/metrics" element={<MetricsPage />} />
              <Route path="/api-keys" element={<ApiKeysPage />} />
              <Route path="/billing" element={<BillingPage />} />
              <Route path="/integrations" element={<SectionLayout label="Integrations" pages={INTEGRATION_PAGES} />}>
                <Route index element={<SectionIndex pages={INTEGRATION_PAGES} />} />
                <Route path="webhooks" element={<WebhooksPage />} />
                <Route path="chat" element={<ChatIntegrationsPage />} />
                <Route path="alert-sources" element={<AlertSourcesPage />} />
              </Route>
              <Route path="/settings" element={<SectionLayout label="Settings" pages={SETTINGS_PAGES} />}>
                <Route index element={<SectionIndex pages={SETTINGS_PAGES} />} />
                <Route path="status-page" element={<StatusPageSettingsPage />} />
                <Route path="subscribers" element={<SubscribersPage />} />
                <Route path="organization" element={<OrganizationSettingsPage />} />
              </Route>
            </Route>
          </Route>
        </Route>
        <Route path="*" element={<NotFound />} />
      </Routes>
    </SessionProvider>
  );
}
