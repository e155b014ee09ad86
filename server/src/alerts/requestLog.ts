/**
 * The log of requests to alert sources (app_public.alert_requests, read by admins). Written as
 * the owner in a transaction of its own, so refused and failed requests are kept too.
 */
import type pg from "pg";
import type { Logger } from "../observability/logger.ts";

export interface AlertRequestEntry {
  organizationId: string;
  alertSourceId: string;
  accepted: boolean;
  /** ACCEPTED, REPLAYED or the error code answered. */
  code: string;
  httpStatus: number;
  alertCount: number;
  incidentIds: string[];
  authenticatedBy: "signature" | "secret" | "api_key" | null;
  apiKeyId: string | null;
  idempotencyKey: string | null;
  remoteAddress: string | null;
  body: Buffer | null;
}

/** What the log keeps of a body: its start, as text. */
const BODY_EXCERPT_CHARACTERS = 2000;

export async function recordAlertRequest(ownerPool: pg.Pool, entry: AlertRequestEntry, logger: Logger): Promise<void> {
  try {
    await ownerPool.query(
      "select app_private.record_alert_request($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
      [
        entry.organizationId,
        entry.alertSourceId,
        entry.accepted,
        entry.code,
        entry.httpStatus,
        entry.alertCount,
        entry.incidentIds,
        entry.authenticatedBy,
        entry.apiKeyId,
        entry.idempotencyKey,
        entry.remoteAddress,
        // Byte-wise cut first, so a huge body is never decoded whole; NUL is not valid in text.
        entry.body
          ?.subarray(0, BODY_EXCERPT_CHARACTERS * 4)
          .toString("utf8")
          .replaceAll("\u0000", "")
          .slice(0, BODY_EXCERPT_CHARACTERS) ?? null,
      ],
    );
  } catch (error) {
    // The sender's answer does not depend on the log; a failure to write it is ours to see.
    logger.error({ err: error }, "could not record an alert request");
  }
}
