import type { ReactNode } from "react";
import type { Role } from "../features/session/roles.ts";
import { StaticSessionProvider, type Session } from "../features/session/SessionContext.tsx";

/** A signed-in member of Acme with this role, without a server. */
export function sessionAs(role: Role | null): Session {
  return {
    user: { rowId: "u1", name: "Ada", email: "ada@example.com" },
    organization: { rowId: "o1", name: "Acme", slug: "acme", plan: "pro", deletionScheduledAt: null },
    role,
    multiTenant: true,
    organizations: [],
    restart: () => undefined,
  };
}

export function AsRole({ role, children }: { role: Role | null; children: ReactNode }) {
  return <StaticSessionProvider value={sessionAs(role)}>{children}</StaticSessionProvider>;
}
