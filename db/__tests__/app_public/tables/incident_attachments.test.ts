/**
 * app_public.incident_attachments: files stored in the database under the incident's
 * organization. Members read them; editors and above upload and delete them; nobody edits one.
 * At most 10 MB, from a content-type allow list, with a plain file name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { countRows } from "../../helpers/incidentFixtures.ts";
import { describeTenantTable, inSeededWorld } from "../../helpers/tenantTable.ts";
import { becomeRoot, expectSqlState } from "../../helpers/transactions.ts";
import { actAs, expectNothingVisible, expectRowCount } from "../../helpers/world.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
const getDb = () => db;

const INSERT =
  "insert into app_public.incident_attachments (incident_id, filename, content_type, content) values ($1, $2, $3, $4)";

describeTenantTable(getDb, {
  table: "app_public.incident_attachments",
  selectKeys: "select id::text as key from app_public.incident_attachments",
  selectRole: "viewer",
  insert: {
    minRole: "editor",
    sql: INSERT,
    values: (seed) => [seed.incidentId, "trace.json", "application/json", Buffer.from('{"a":1}')],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.incident_attachments where organization_id = $1 and filename = 'trace.json'",
        [seed.organizationId],
      )) === 1,
  },
  update: {
    minRole: null,
    sql: "update app_public.incident_attachments set filename = 'renamed.txt' where id = $1",
    values: (seed) => [seed.attachmentId],
    tookEffect: async (client, seed) =>
      (await countRows(
        client,
        "select 1 from app_public.incident_attachments where id = $1 and filename = 'renamed.txt'",
        [seed.attachmentId],
      )) === 1,
  },
  delete: {
    minRole: "editor",
    sql: "delete from app_public.incident_attachments where id = $1",
    values: (seed) => [seed.attachmentId],
    tookEffect: async (client, seed) =>
      (await countRows(client, "select 1 from app_public.incident_attachments where id = $1", [seed.attachmentId])) ===
      0,
  },
});

const test = (fn: Parameters<typeof inSeededWorld>[1]) => inSeededWorld(getDb, fn);
const TEN_MB = 10 * 1024 * 1024;

describe("app_public.incident_attachments: rules", () => {
  it(
    "members of A read the content and its size; the uploader is recorded",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      const { rows: inserted } = await client.query<{ id: string; uploaded_by_id: string }>(
        `${INSERT} returning id, uploaded_by_id`,
        [a.incidentId, "shot.png", "image/png", Buffer.from([0x89, 0x50, 0x4e, 0x47])],
      );
      expect(inserted[0]!.uploaded_by_id).toBe(world.a.members.editor.id);
      await actAs(client, db.config, world, "viewer");
      const { rows } = await client.query<{ content: Buffer; size_bytes: number }>(
        "select content, size_bytes from app_public.incident_attachments where id = $1",
        [inserted[0]!.id],
      );
      expect(rows[0]!.content.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBe(true);
      expect(rows[0]!.size_bytes).toBe(4);
    }),
  );

  it(
    "B's owner and anonymous cannot read A's attachment",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "otherOwner");
      await expectNothingVisible(client, "select content from app_public.incident_attachments where id = $1", [
        a.attachmentId,
      ]);
      await actAs(client, db.config, world, "anonymous");
      await expectNothingVisible(client, "select content from app_public.incident_attachments where id = $1", [
        a.attachmentId,
      ]);
    }),
  );

  it(
    "attaching to B's incident is refused to A's editor (23503)",
    test(async (client, { world, b }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23503", INSERT, [b.incidentId, "x.txt", "text/plain", Buffer.from("x")]);
    }),
  );

  it(
    "inserting with B's organization_id is refused (42501)",
    test(async (client, { world, b }) => {
      await actAs(client, db.config, world, "owner");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.incident_attachments (organization_id, incident_id, filename, content_type, content) values ($1, $2, 'x.txt', 'text/plain', '\\x01')",
        [world.b.id, b.incidentId],
      );
    }),
  );

  it(
    "exactly 10 MB is accepted; one byte more is refused (23514)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectRowCount(client, 1, INSERT, [a.incidentId, "big.txt", "text/plain", Buffer.alloc(TEN_MB, 1)]);
      await expectSqlState(client, "23514", INSERT, [
        a.incidentId,
        "bigger.txt",
        "text/plain",
        Buffer.alloc(TEN_MB + 1, 1),
      ]);
    }),
  );

  it(
    "an empty file is refused (23514)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(client, "23514", INSERT, [a.incidentId, "empty.txt", "text/plain", Buffer.alloc(0)]);
    }),
  );

  for (const contentType of [
    "text/html",
    "image/svg+xml",
    "application/octet-stream",
    "application/x-sh",
    "TEXT/PLAIN",
  ]) {
    it(
      `content type ${contentType}: refused (23514)`,
      test(async (client, { world, a }) => {
        await actAs(client, db.config, world, "editor");
        await expectSqlState(client, "23514", INSERT, [a.incidentId, "file", contentType, Buffer.from("x")]);
      }),
    );
  }

  for (const contentType of [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/json",
  ]) {
    it(
      `content type ${contentType}: accepted`,
      test(async (client, { world, a }) => {
        await actAs(client, db.config, world, "editor");
        await expectRowCount(client, 1, INSERT, [a.incidentId, "file", contentType, Buffer.from("x")]);
      }),
    );
  }

  for (const filename of [
    "",
    "  ",
    "../etc/passwd",
    "dir/file.txt",
    "back\\slash.txt",
    "new\nline.txt",
    "n".repeat(256),
  ]) {
    it(
      `file name ${JSON.stringify(filename.length > 20 ? `${filename.slice(0, 5)}…(${filename.length})` : filename)}: refused (23514)`,
      test(async (client, { world, a }) => {
        await actAs(client, db.config, world, "editor");
        await expectSqlState(client, "23514", INSERT, [a.incidentId, filename, "text/plain", Buffer.from("x")]);
      }),
    );
  }

  it(
    "size_bytes and uploaded_by_id cannot be forged (42501 / generated column)",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "editor");
      await expectSqlState(
        client,
        "42501",
        "insert into app_public.incident_attachments (incident_id, filename, content_type, content, uploaded_by_id) values ($1, 'x', 'text/plain', '\\x01', $2)",
        [a.incidentId, world.a.members.owner.id],
      );
    }),
  );

  it(
    "deleting the incident deletes its attachments",
    test(async (client, { world, a }) => {
      await actAs(client, db.config, world, "admin");
      await expectRowCount(client, 1, "delete from app_public.incidents where id = $1", [a.incidentId]);
      await becomeRoot(client);
      expect(
        await countRows(client, "select 1 from app_public.incident_attachments where id = $1", [a.attachmentId]),
      ).toBe(0);
    }),
  );
});
