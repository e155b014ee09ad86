import { afterAll, beforeAll, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { attempt, becomeUser, withRootDb } from "./helpers/transactions.ts";
import { createOrganizationWithMembers } from "./helpers/factories.ts";
let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase(); });
afterAll(async () => { await db.drop(); });
it("probe", async () => {
  await withRootDb(db.rootPool, async (client) => {
    const a = await createOrganizationWithMembers(client, "A");
    console.log(await attempt(client, "set local search_path = pg_catalog, pg_temp; "));
    console.log((await attempt(client, "select 'A'::public.citext = 'a'::public.citext as eq")).rows);
    await client.query("reset search_path");
    await becomeUser(client, db.config, a.members.admin.id, a.id);
    console.log(await attempt(client, "select * from app_public.change_member_role($1, 'viewer')", [a.members.editor.id]));
    console.log(await attempt(client, "select * from app_public.remove_member($1)", [a.members.editor.id]));
    console.log(await attempt(client, "select app_hidden.current_org_role()"));
  });
});
