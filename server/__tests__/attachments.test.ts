/**
 * Incident attachments over HTTP: members download, editors upload, the type is decided by
 * the bytes, and nothing is ever served inline.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationWithMembers, type OrganizationMembers } from "./helpers/organization.ts";
import { graphql, startTestServer, type TestServer } from "./helpers/testServer.ts";

let server: TestServer;
let acme: OrganizationMembers;
let globex: OrganizationMembers;
let incidentId: string;

// A 1×1 transparent PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

beforeAll(async () => {
  server = await startTestServer({ MULTI_TENANT_ENABLED: "true" });
  acme = await organizationWithMembers(server, "acme");
  globex = await organizationWithMembers(server, "globex");
  const created = await graphql(
    server.url,
    `
      mutation {
        createIncident(input: { incident: { title: "With files" } }) {
          incident {
            rowId
          }
        }
      }
    `,
    {},
    { token: acme.tokens.editor },
  );
  incidentId = created.data!.createIncident.incident.rowId;
});
afterAll(async () => {
  await server.stop();
});

async function upload(
  token: string | null,
  filename: string,
  content: Buffer,
  type = "application/octet-stream",
  incident = incidentId,
) {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(content)], { type }), filename);
  const response = await fetch(`${server.url}/api/incidents/${incident}/attachments`, {
    method: "POST",
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const body = (await response.json()) as {
    attachment?: Record<string, unknown>;
    errors?: { extensions: { code: string } }[];
  };
  return { status: response.status, body, code: body.errors?.[0]?.extensions.code };
}

const download = (token: string | null, id: string) =>
  fetch(`${server.url}/api/attachments/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("uploading", () => {
  it("stores an image an editor uploads, typed by its bytes", async () => {
    const result = await upload(acme.tokens.editor, "graph.png", PNG, "text/plain");
    expect(result.status).toBe(201);
    expect(result.body.attachment).toMatchObject({
      filename: "graph.png",
      contentType: "image/png",
      sizeBytes: PNG.length,
    });
  });

  it("accepts text, CSV, JSON and log files that really are text", async () => {
    for (const [name, type] of [
      ["notes.txt", "text/plain"],
      ["errors.log", "text/plain"],
      ["rows.csv", "text/csv"],
      ["payload.json", "application/json"],
    ]) {
      const result = await upload(acme.tokens.admin, name!, Buffer.from('{"a": 1}\nline two\n'));
      expect(result.status, name).toBe(201);
      expect(result.body.attachment!.contentType).toBe(type);
    }
  });

  it("refuses other types, whatever they claim to be", async () => {
    const cases: [string, Buffer, string][] = [
      ["page.html", Buffer.from("<html><script>alert(1)</script></html>"), "text/plain"],
      ["icon.svg", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), "image/svg+xml"],
      ["program.exe", Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03]), "application/octet-stream"],
      ["binary.txt", Buffer.from([0x41, 0x00, 0x42]), "text/plain"],
      ["archive.txt", Buffer.from("504b0304140000000800", "hex"), "text/plain"],
    ];
    for (const [name, content, type] of cases) {
      const result = await upload(acme.tokens.editor, name, content, type);
      expect([result.status, result.code], name).toEqual([415, "UNSUPPORTED_ATTACHMENT_TYPE"]);
    }
  });

  it("refuses files over 10 MB and empty files", async () => {
    const big = await upload(acme.tokens.editor, "big.txt", Buffer.alloc(10 * 1024 * 1024 + 1, 0x61));
    expect([big.status, big.code]).toEqual([413, "ATTACHMENT_TOO_LARGE"]);
    const empty = await upload(acme.tokens.editor, "empty.txt", Buffer.alloc(0));
    expect(empty.status).toBe(422);
  });

  it("lets only editors and above upload, and only to their own organization's incidents", async () => {
    const viewer = await upload(acme.tokens.viewer, "v.txt", Buffer.from("hello"));
    expect([viewer.status, viewer.code]).toEqual([403, "FORBIDDEN"]);
    const anonymous = await upload(null, "a.txt", Buffer.from("hello"));
    expect([anonymous.status, anonymous.code]).toEqual([401, "UNAUTHENTICATED"]);
    const outsider = await upload(globex.tokens.owner, "o.txt", Buffer.from("hello"));
    expect([outsider.status, outsider.code]).toEqual([404, "NOT_FOUND"]);
    const { rows } = await server.db.rootPool.query(
      "select count(*)::int as n from app_public.incident_attachments where filename in ('v.txt', 'a.txt', 'o.txt')",
    );
    expect(rows[0].n).toBe(0);
  });
});

describe("downloading", () => {
  it("serves members the file as an attachment that is never sniffed or rendered", async () => {
    const uploaded = await upload(acme.tokens.editor, "diagram.png", PNG);
    const id = uploaded.body.attachment!.id as string;
    const response = await download(acme.tokens.viewer, id);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="diagram.png"/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("sandbox");
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it("hides files from other organizations and the public", async () => {
    const uploaded = await upload(acme.tokens.editor, "secret.txt", Buffer.from("secret"));
    const id = uploaded.body.attachment!.id as string;
    expect((await download(globex.tokens.owner, id)).status).toBe(404);
    expect((await download(null, id)).status).toBe(401);
    expect((await download(acme.tokens.viewer, "not-a-uuid")).status).toBe(404);
    const listed = await graphql(
      server.url,
      `
        query Q($id: UUID!) {
          incident(rowId: $id) {
            incidentAttachments {
              nodes {
                filename
                sizeBytes
                contentType
              }
            }
          }
        }
      `,
      { id: incidentId },
      { token: acme.tokens.viewer },
    );
    expect(listed.data!.incident.incidentAttachments.nodes).toContainEqual({
      filename: "secret.txt",
      sizeBytes: 6,
      contentType: "text/plain",
    });
  });
});
