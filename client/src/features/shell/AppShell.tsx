/**
 * The dashboard's frame: a skip link, the header (brand, organization switcher, account),
 * the navigation of what the role may use, and the page. Live updates and the upgrade
 * action are provided here, for every page inside.
 */
import { NavLink, Outlet, useNavigate } from "react-router";
import { gql, useMutation } from "urql";
import { UpgradeProvider } from "../billing/UpgradeProvider.tsx";
import { LiveUpdatesProvider, useLiveState } from "../live/LiveUpdates.tsx";
import { DeletionNotice } from "../settings/DeletionNotice.tsx";
import type { Permission } from "../session/roles.ts";
import { useSession } from "../session/SessionContext.tsx";
import { useRole } from "../session/useRole.ts";
import { OrganizationSwitcher } from "./OrganizationSwitcher.tsx";

const LogoutMutation = gql`
  mutation Logout {
    logout
  }
`;

const NAVIGATION: { to: string; label: string; permission?: Permission }[] = [
  { to: "/incidents", label: "Incidents" },
  { to: "/services", label: "Services" },
  { to: "/maintenance", label: "Maintenance" },
  { to: "/metrics", label: "Metrics" },
  { to: "/members", label: "Members" },
  { to: "/audit-log", label: "Audit log", permission: "readAuditLog" },
  { to: "/api-keys", label: "API keys", permission: "manageApiKeys" },
  { to: "/integrations", label: "Integrations" },
  { to: "/billing", label: "Billing" },
  { to: "/settings", label: "Settings" },
];

function LiveIndicator() {
  const { connected } = useLiveState();
  return (
    <span className={`live-indicator ${connected ? "live-indicator--on" : ""}`} role="status">
      {connected ? "Live" : "Not live"}
    </span>
  );
}

export function AppShell() {
  const session = useSession();
  const { can } = useRole();
  const navigate = useNavigate();
  const [, logout] = useMutation(LogoutMutation);
  const signOut = async () => {
    await logout({});
    await navigate("/");
    session.restart();
  };

  return (
    <LiveUpdatesProvider enabled={session.organization != null}>
      <UpgradeProvider>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="app-header">
          <NavLink to="/incidents" className="brand">
            IncidentPulse
          </NavLink>
          <OrganizationSwitcher />
          <div className="app-header__end">
            {session.organization && <LiveIndicator />}
            {session.organization && (
              <a href={`/status/${session.organization.slug}`} className="header-link">
                Status page
              </a>
            )}
            <NavLink to="/account" className="header-link" title={session.user?.email}>
              {session.user?.name}
              {session.role && <span className="role-tag"> · {session.role}</span>}
            </NavLink>
            <button type="button" className="btn btn--quiet" onClick={signOut}>
              Sign out
            </button>
          </div>
        </header>
        {session.organization && (
          <nav className="app-nav" aria-label="Dashboard">
            <ul>
              {NAVIGATION.filter((item) => !item.permission || can(item.permission)).map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to}>{item.label}</NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" className="app-main" tabIndex={-1}>
          <DeletionNotice />
          <Outlet />
        </main>
      </UpgradeProvider>
    </LiveUpdatesProvider>
  );
}
