// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { render } from "../../test/render.tsx";
import { Allowed } from "./Allowed.tsx";
import { PERMISSIONS, roleAllows, ROLES, type Role } from "./roles.ts";
import { StaticSessionProvider, type Session } from "./SessionContext.tsx";

const sessionAs = (role: Role | null): Session => ({
  user: { rowId: "u1", name: "Ada", email: "ada@example.com" },
  organization: { rowId: "o1", name: "Acme", slug: "acme", plan: "free", deletionScheduledAt: null },
  role,
  multiTenant: true,
  organizations: [],
  restart: () => undefined,
});

describe("roleAllows", () => {
  it("follows the role order for every permission", () => {
    const expected: Record<string, Role[]> = {
      manageIncidents: ["editor", "admin", "owner"],
      manageServices: ["admin", "owner"],
      readAuditLog: ["admin", "owner"],
      manageIntegrations: ["admin", "owner"],
      manageSubscribers: ["admin", "owner"],
      manageBilling: ["owner"],
      manageOrganization: ["owner"],
    };
    for (const [permission, roles] of Object.entries(expected)) {
      expect(ROLES.filter((role) => roleAllows(role, permission as keyof typeof PERMISSIONS))).toEqual(roles);
    }
  });

  it("allows nothing without a membership", () => {
    for (const permission of Object.keys(PERMISSIONS)) {
      expect(roleAllows(null, permission as keyof typeof PERMISSIONS)).toBe(false);
    }
  });
});

describe("<Allowed>", () => {
  const controls = (role: Role | null) =>
    render(
      <StaticSessionProvider value={sessionAs(role)}>
        <Allowed permission="manageIncidents" fallback={<span>read only</span>}>
          <button type="button">Declare incident</button>
        </Allowed>
      </StaticSessionProvider>,
    );

  it("hides write controls from viewers", () => {
    const container = controls("viewer");
    expect(container.querySelector("button")).toBeNull();
    expect(container.textContent).toBe("read only");
  });

  it("shows them to editors and above", () => {
    for (const role of ["editor", "admin", "owner"] as const) {
      expect(controls(role).querySelector("button")!.textContent).toBe("Declare incident");
    }
  });
});
