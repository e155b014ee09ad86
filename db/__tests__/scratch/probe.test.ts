import { afterAll, beforeAll, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { withRootDb } from "../helpers/transactions.ts";
import { createWorld } from "../helpers/world.ts";
import { seedOrganization } from "../helpers/incidentFixtures.ts";

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(async () => { await db.drop(); });

it("probe", () => withRootDb(db.rootPool, async (c) => {
  const w = await createWorld(c);
  try { await seedOrganization(c, w.a); } catch (e) { console.log("ERR", e); }
}));
