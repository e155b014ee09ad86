// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { click, render } from "../test/render.tsx";
import type { CodedError } from "../lib/errors.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { UpgradeContext, type UpgradeAction } from "./upgradeContext.ts";

const planLimit: CodedError = {
  code: "PLAN_LIMIT_EXCEEDED",
  message: "The free plan allows 2 services. Upgrade to create more.",
  extensions: { code: "PLAN_LIMIT_EXCEEDED", resource: "services", limit: 2, current: 2, plan: "free" },
};

describe("ErrorNotice", () => {
  it("shows nothing without an error", () => {
    expect(render(<ErrorNotice error={null} />).textContent).toBe("");
  });

  it("shows the server's message, the code and what to do, as an alert", () => {
    const container = render(
      <ErrorNotice error={{ code: "FORBIDDEN", message: "You do not have permission to do this.", extensions: {} }} />,
    );
    const alert = container.querySelector('[role="alert"]')!;
    expect(alert.getAttribute("data-code")).toBe("FORBIDDEN");
    expect(alert.textContent).toContain("You do not have permission to do this.");
    expect(alert.querySelector("code")!.textContent).toBe("FORBIDDEN");
    expect(alert.textContent).toContain("Your role in this organization does not allow this.");
  });

  it("reads urql's combined errors, and a failure to reach the server", () => {
    const graphQL = render(
      <ErrorNotice
        error={
          {
            graphQLErrors: [{ message: "Incorrect email or password.", extensions: { code: "INVALID_CREDENTIALS" } }],
            networkError: undefined,
          } as never
        }
      />,
    );
    expect(graphQL.querySelector("[data-code]")!.getAttribute("data-code")).toBe("INVALID_CREDENTIALS");
    const network = render(<ErrorNotice error={{ graphQLErrors: [], networkError: new Error("offline") } as never} />);
    expect(network.querySelector("[data-code]")!.getAttribute("data-code")).toBe("NETWORK_ERROR");
  });
});

describe("the plan-limit prompt", () => {
  const withUpgrade = (action: UpgradeAction) =>
    render(
      <UpgradeContext.Provider value={action}>
        <ErrorNotice error={planLimit} />
      </UpgradeContext.Provider>,
    );

  it("shows the limit and the usage", () => {
    const container = render(<ErrorNotice error={planLimit} />);
    const prompt = container.querySelector('[data-code="PLAN_LIMIT_EXCEEDED"]')!;
    expect(prompt.textContent).toContain("The Free plan allows 2 services.");
    expect(prompt.textContent).toContain("Using 2 of 2.");
    const meter = prompt.querySelector("meter")!;
    expect([meter.getAttribute("value"), meter.getAttribute("max")]).toEqual(["2", "2"]);
  });

  it("offers owners the next plan and starts the checkout", async () => {
    const start = vi.fn(async () => null);
    const container = withUpgrade({ start, nextPlan: (plan) => (plan === "free" ? "pro" : null) });
    const button = container.querySelector("button")!;
    expect(button.textContent).toBe("Upgrade to Pro");
    await click(button);
    expect(start).toHaveBeenCalledWith("pro");
  });

  it("shows why a checkout could not start, next to the button", async () => {
    const start = vi.fn(async () => [
      { code: "BILLING_NOT_CONFIGURED", message: "Billing is not configured.", extensions: {} },
    ]);
    const container = withUpgrade({ start, nextPlan: () => "pro" });
    await click(container.querySelector("button"));
    expect(container.textContent).toContain("Billing is not configured.");
    expect(container.textContent).toContain("BILLING_NOT_CONFIGURED");
  });

  it("tells other roles to ask an owner, with no button", () => {
    const container = withUpgrade({ start: null, nextPlan: () => "pro" });
    expect(container.querySelector("button")).toBeNull();
    expect(container.textContent).toContain("Ask an owner of this organization to upgrade to Pro.");
  });
});
