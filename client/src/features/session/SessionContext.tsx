/**
 * Who is signed in, in which organization and with which role, plus whether this server hosts
 * many organizations. Read once per client; `restart()` replaces the GraphQL client (emptying
 * its cache) after anything that changes the session: sign-in, sign-out, switching.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { gql, Provider, useQuery, type Client } from "urql";
import { createClient } from "../../graphql.ts";
import type { Role } from "./roles.ts";

const SessionQuery = gql`
  query Session {
    multiTenantEnabled
    currentUser {
      rowId
      name
      email
    }
    currentOrganization {
      rowId
      name
      slug
      plan
      deletionScheduledAt
    }
    currentMembership {
      role
    }
    organizations(orderBy: SLUG_ASC) {
      nodes {
        rowId
        name
        slug
      }
    }
  }
`;

interface SessionData {
  multiTenantEnabled: boolean | null;
  currentUser: { rowId: string; name: string; email: string } | null;
  currentOrganization: {
    rowId: string;
    name: string;
    slug: string;
    plan: string;
    /** When an owner's requested deletion happens, if one is scheduled. */
    deletionScheduledAt: string | null;
  } | null;
  currentMembership: { role: Role } | null;
  organizations: { nodes: { rowId: string; name: string; slug: string }[] } | null;
}

export interface Session {
  user: SessionData["currentUser"];
  organization: SessionData["currentOrganization"];
  role: Role | null;
  multiTenant: boolean;
  organizations: { rowId: string; name: string; slug: string }[];
  /** Starts over with an empty cache, e.g. after signing in or switching organization. */
  restart(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession needs a SessionProvider");
  return session;
}

/** For tests and stories: a fixed session without a server. */
export const StaticSessionProvider = SessionContext.Provider;

function SessionLoader({ restart, children }: { restart(): void; children: ReactNode }) {
  const [{ data, fetching, error }] = useQuery<SessionData>({ query: SessionQuery });
  const value = useMemo<Session | null>(
    () =>
      data
        ? {
            user: data.currentUser,
            organization: data.currentOrganization,
            role: data.currentMembership?.role ?? null,
            multiTenant: data.multiTenantEnabled === true,
            organizations: data.organizations?.nodes ?? [],
            restart,
          }
        : null,
    [data, restart],
  );
  if (!value) {
    return (
      <p className="page-status" role={error ? "alert" : "status"}>
        {fetching || !error ? "Loading…" : "The server could not be reached. Reload the page to try again."}
      </p>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [{ client, generation }, setState] = useState<{ client: Client; generation: number }>(() => ({
    client: createClient(),
    generation: 0,
  }));
  const restart = useCallback(
    () => setState((previous) => ({ client: createClient(), generation: previous.generation + 1 })),
    [],
  );
  return (
    // The key remounts everything below, so no component keeps state from the old session.
    <Provider value={client} key={generation}>
      <SessionLoader restart={restart}>{children}</SessionLoader>
    </Provider>
  );
}
