import { describe, expect, it } from "vitest";
import { sectionsOf } from "../features/statusPage/components.ts";
import type { ComponentJson } from "../features/statusPage/types.ts";
import { fromRestBody, planLimitDetails } from "./errors.ts";
import { moveItem } from "./ordering.ts";
import { passwordProblem, slugFrom, slugProblem } from "./validation.ts";

describe("validation", () => {
  it("mirrors the server's password and slug rules", () => {
    expect(passwordProblem("1234567")).toBe("Use at least 8 characters.");
    expect(passwordProblem("12345678")).toBeNull();
    expect(passwordProblem("é".repeat(37))).toBe("Use at most 72 bytes.");
    expect(slugProblem("acme-cloud")).toBeNull();
    expect(slugProblem("-acme")).not.toBeNull();
    expect(slugFrom("  Acme Cloud (EU)! ")).toBe("acme-cloud-eu");
  });
});

describe("errors", () => {
  it("reads REST bodies and plan-limit details", () => {
    const [error] = fromRestBody(402, {
      errors: [
        {
          message: "The free plan allows 2 services.",
          extensions: { code: "PLAN_LIMIT_EXCEEDED", resource: "services", limit: 2, current: 2, plan: "free" },
        },
      ],
    });
    expect(planLimitDetails(error!)).toEqual({ resource: "services", limit: 2, current: 2, plan: "free" });
    expect(fromRestBody(502, "<html>")[0]!.code).toBe("HTTP_502");
  });
});

describe("ordering", () => {
  it("returns only the positions that change", () => {
    const items = [
      { rowId: "a", position: 0 },
      { rowId: "b", position: 1 },
      { rowId: "c", position: 2 },
    ];
    expect(moveItem(items, "c", -1)).toEqual([
      { rowId: "c", position: 1 },
      { rowId: "b", position: 2 },
    ]);
    expect(moveItem(items, "a", -1)).toEqual([]);
  });
});

describe("status page sections", () => {
  const component = (id: string, extra: Partial<ComponentJson>): ComponentJson => ({
    id,
    name: id,
    status: "operational",
    created_at: "",
    updated_at: "",
    position: 0,
    description: null,
    showcase: true,
    start_date: null,
    group_id: null,
    page_id: "p",
    group: false,
    only_show_if_degraded: false,
    ...extra,
  });

  it("orders groups and their services, ungrouped last, and hides services shown only when degraded", () => {
    const sections = sectionsOf([
      component("Core", { group: true, position: 1 }),
      component("Edge", { group: true, position: 0 }),
      component("API", { group_id: "Core", position: 2 }),
      component("DB", { group_id: "Core", position: 1 }),
      component("CDN", { group_id: "Edge" }),
      component("Docs", {}),
      component("Batch", { only_show_if_degraded: true }),
      component("Empty", { group: true, position: 2 }),
    ]);
    expect(sections.map((s) => [s.group?.id ?? null, s.services.map((c) => c.id)])).toEqual([
      ["Edge", ["CDN"]],
      ["Core", ["DB", "API"]],
      [null, ["Docs"]],
    ]);
  });
});
