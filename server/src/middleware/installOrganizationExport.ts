/**
 * GET /api/organization/export: an owner downloads everything of the active organization as
 * one JSON document. The tables come from the catalog (every app_public table with an
 * organization_id), so a table added later is exported without anyone remembering; each is
 * read as the owner under RLS, with only the columns the API role may read (sealed secrets
 * and token hashes never leave the database).
 */
import type { Express, NextFunction, Request, Response } from "express";
import type { PoolClient } from "pg";
import { withRequestTransaction } from "../database/requestTransaction.ts";
import { errorBody, restAnswerForDatabaseError } from "../errors.ts";
import type { Services } from "../services.ts";
import { authenticationMiddleware } from "./installAuthentication.ts";

interface ExportedTable {
  name: string;
  columns: string[];
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Tenant tables and the columns the current role may select, in a stable order. */
async function exportableTables(client: PoolClient): Promise<ExportedTable[]> {
  const { rows } = await client.query<{ name: string; columns: string[] }>(
    `select c.relname as name,
            array_agg(a.attname::text order by a.attnum) filter (where has_column_privilege(c.oid, a.attnum, 'select'))
              as columns
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     where n.nspname = 'app_public' and c.relkind in ('r', 'p')
       and exists (select 1 from pg_attribute o
                   where o.attrelid = c.oid and o.attname = 'organization_id' and not o.attisdropped)
     group by c.relname
     order by c.relname`,
  );
  return rows.filter((row) => row.columns?.includes("organization_id"));
}

export function installOrganizationExport(app: Express, services: Services): void {
  app.get(
    "/api/organization/export",
    authenticationMiddleware(services),
    async (req: Request, res: Response, next: NextFunction) => {
      if (!req.identity) return res.status(401).json(errorBody("UNAUTHENTICATED", "You must be signed in."));
      try {
        const document = await withRequestTransaction(services, req.identity, async (client) => {
          // A person (never an API key) with the owner role; coded errors otherwise.
          await client.query(
            "select app_hidden.assert_signed_in(), app_hidden.assert_org_role('owner', 'export the organization')",
          );
          const { rows } = await client.query<{ organization: Record<string, unknown> }>(
            "select to_jsonb(o) as organization from app_public.organizations o where o.id = app_hidden.current_org_id()",
          );
          const tables: Record<string, unknown[]> = {};
          for (const table of await exportableTables(client)) {
            const columns = table.columns.map(quoteIdentifier).join(", ");
            const { rows: exported } = await client.query<{ rows: unknown[] | null }>(
              `select json_agg(t) as rows from (
                 select ${columns} from app_public.${quoteIdentifier(table.name)}
                 where organization_id = app_hidden.current_org_id()
               ) t`,
            );
            tables[table.name] = exported[0]?.rows ?? [];
          }
          return { format: "incidentpulse-export/1", exportedAt: new Date().toISOString(), ...rows[0], tables };
        });
        const slug = String((document.organization as { slug?: unknown } | undefined)?.slug ?? "organization");
        res
          .status(200)
          .set("Cache-Control", "no-store")
          .attachment(`${slug}-export.json`)
          .type("application/json")
          .send(JSON.stringify(document));
      } catch (error) {
        const answer = restAnswerForDatabaseError(error);
        if (answer) return res.status(answer.status).json(answer.body);
        next(error);
      }
    },
  );
}
