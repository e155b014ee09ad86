// @vitest-environment happy-dom
import { MemoryRouter } from "react-router";
import { Provider } from "urql";
import { describe, expect, it } from "vitest";
import { createClient } from "../../graphql.ts";
import { render } from "../../test/render.tsx";
import { StaticSessionProvider, type Session } from "../session/SessionContext.tsx";
import { OrganizationSwitcher } from "./OrganizationSwitcher.tsx";

const session = (multiTenant: boolean): Session => ({
  user: { rowId: "u1", name: "Ada", email: "ada@example.com" },
  organization: { rowId: "o1", name: "Acme", slug: "acme", plan: "pro", deletionScheduledAt: null },
  role: "owner",
  multiTenant,
  organizations: [
    { rowId: "o1", name: "Acme", slug: "acme" },
    { rowId: "o2", name: "Globex", slug: "globex" },
  ],
  restart: () => undefined,
});

const switcher = (multiTenant: boolean) =>
  render(
    <MemoryRouter>
      <Provider value={createClient()}>
        <StaticSessionProvider value={session(multiTenant)}>
          <OrganizationSwitcher />
        </StaticSessionProvider>
      </Provider>
    </MemoryRouter>,
  );

describe("OrganizationSwitcher", () => {
  it("is hidden when the server hosts a single organization", () => {
    expect(switcher(false).querySelector("select")).toBeNull();
  });

  it("lists the user's organizations, the active one chosen, and creating one", () => {
    const select = switcher(true).querySelector("select")!;
    expect(select.value).toBe("o1");
    expect([...select.options].map((option) => option.textContent)).toEqual(["Acme", "Globex", "+ New organization…"]);
    expect(select.labels?.[0]?.textContent).toBe("Organization");
  });
});
