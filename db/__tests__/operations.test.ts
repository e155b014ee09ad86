/**
 * Operator commands: setting a plan by slug.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperatorError, setOrganizationPlan } from "../src/operations.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.rootPool.query("insert into app_public.organizations (name, slug) values ('Ops', 'ops')");
});
afterAll(async () => {
  await db.drop();
});

describe("setOrganizationPlan", () => {
  it("changes the plan and reports the previous one", async () => {
    expect(await setOrganizationPlan(db.config.ownerUrl, "ops", "enterprise")).toEqual({ previous: "free" });
    expect(await setOrganizationPlan(db.config.ownerUrl, "ops", "pro")).toEqual({ previous: "enterprise" });
    const { rows } = await db.rootPool.query("select plan from app_public.organizations where slug = 'ops'");
    expect(rows[0].plan).toBe("pro");
  });

  it("refuses unknown plans and slugs without changing anything", async () => {
    await expect(setOrganizationPlan(db.config.ownerUrl, "ops", "gold")).rejects.toBeInstanceOf(OperatorError);
    await expect(setOrganizationPlan(db.config.ownerUrl, "nobody", "pro")).rejects.toBeInstanceOf(OperatorError);
    const { rows } = await db.rootPool.query("select plan from app_public.organizations where slug = 'ops'");
    expect(rows[0].plan).toBe("pro");
  });
});
