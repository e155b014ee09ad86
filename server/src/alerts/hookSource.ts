/**
 * The alert source a hook request names, looked up before anything else is known about the
 * request (its organization comes from the source). Runs as the owner through
 * app_private.alert_source_for_hook, which reads only that source.
 */
import type pg from "pg";
import type { SecretBox } from "../integrations/secretBox.ts";
import type { Logger } from "../observability/logger.ts";
import type { AlertSourceFormat } from "./formats.ts";

export interface HookSource {
  id: string;
  organizationId: string;
  name: string;
  format: AlertSourceFormat;
  enabled: boolean;
  /** NULL when the sealed secret cannot be opened (the server's encryption key changed). */
  secret: string | null;
}

export async function findHookSource(
  ownerPool: pg.Pool,
  secrets: SecretBox,
  sourceId: string,
  logger: Logger,
): Promise<HookSource | null> {
  const { rows } = await ownerPool.query<{
    organization_id: string;
    name: string;
    format: AlertSourceFormat;
    enabled: boolean;
    sealed_secret: Buffer;
  }>("select * from app_private.alert_source_for_hook($1)", [sourceId]);
  const row = rows[0];
  if (!row) return null;
  let secret: string | null = null;
  try {
    secret = secrets.open(row.sealed_secret);
  } catch {
    logger.error(
      { alertSourceId: sourceId },
      "the alert source's secret cannot be opened: was SECRETS_ENCRYPTION_KEY changed?",
    );
  }
  return {
    id: sourceId,
    organizationId: row.organization_id,
    name: row.name,
    format: row.format,
    enabled: row.enabled,
    secret,
  };
}
