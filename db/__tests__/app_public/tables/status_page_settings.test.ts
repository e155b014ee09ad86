/**
 * Status page settings: owners and admins of the organization set them; the values are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { attempt, withRootDb } from "../../helpers/transactions.ts";
import { actAs, createWorld } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const INSERT = `insert into app_public.status_page_settings (title, time_zone, support_url, published)
                values ('Acme status', $1, $2, true)`;

describe("app_public.status_page_settings", () => {
  it("owners and admins set them; editors, viewers and anonymous cannot", () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      for (const actor of ["editor", "viewer", "anonymous"] as const) {
        await actAs(client, db.config, world, actor);
        expect((await attempt(client, INSERT, ["Europe/Berlin", null])).error, actor).toBe("42501");
      }
      await actAs(client, db.config, world, "admin");
      expect((await attempt(client, INSERT, ["Europe/Berlin", "https://help.example.com"])).error).toBeNull();
      await actAs(client, db.config, world, "owner");
      const updated = await attempt(client, "update app_public.status_page_settings set published = false");
      expect(updated.rowCount).toBe(1);
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query("select title, time_zone, published from app_public.status_page_settings");
      expect(rows).toEqual([{ title: "Acme status", time_zone: "Europe/Berlin", published: false }]);
    }));

  it("another organization neither sees nor changes them", () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      await actAs(client, db.config, world, "owner");
      await client.query(INSERT, ["Etc/UTC", null]);
      await actAs(client, db.config, world, "otherOwner");
      expect((await client.query("select 1 from app_public.status_page_settings")).rows).toEqual([]);
      expect((await attempt(client, "update app_public.status_page_settings set published = false")).rowCount).toBe(0);
    }));

  it("refuses unknown time zones and non-http support links", () =>
    withRootDb(db.rootPool, async (client) => {
      const world = await createWorld(client);
      await actAs(client, db.config, world, "owner");
      expect((await attempt(client, INSERT, ["Mars/Olympus", null])).error).toBe("IPV01");
      expect((await attempt(client, INSERT, ["Etc/UTC", "javascript:alert(1)"])).error).toBe("23514");
    }));
});
