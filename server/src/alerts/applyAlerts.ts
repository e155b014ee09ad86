/**
 * Applies normalized alerts in one transaction as the hook's actor: the Idempotency-Key is
 * claimed first (a retry gets the stored answer), then app_hidden.receive_alerts opens,
 * updates and resolves incidents, and the answer is stored with the key before commit. Any
 * error rolls everything back, the key included, so the sender may simply retry.
 */
import { createHash } from "node:crypto";
import type { PoolClient } from "pg";
import { withRequestTransaction } from "../database/requestTransaction.ts";
import type { Services } from "../services.ts";
import type { HookActor } from "./hookAuthentication.ts";
import type { HookSource } from "./hookSource.ts";
import type { NormalizedAlert } from "./normalizedAlert.ts";

export type AlertAction = "opened" | "updated" | "resolved" | "ignored";

export interface AlertSummary {
  accepted: number;
  incidents: { id: string | null; fingerprint: string; action: AlertAction }[];
}

export interface AppliedAlerts {
  summary: AlertSummary;
  /** True when the summary is the stored answer to an earlier request with the same key. */
  replayed: boolean;
}

/**
 * A transaction as the source itself. It starts as withRequestTransaction's anonymous request
 * (the authenticator switched to the anonymous role) and, the server having verified the
 * secret, becomes the visitor role with the source's claims: the organization and the source
 * (which app_hidden.current_org_role() turns into the editor role while the source is enabled).
 */
function withAlertSourceTransaction<T>(
  services: Services,
  source: HookSource,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return withRequestTransaction(services, null, async (client) => {
    await client.query(
      `select set_config('role', $1, true), set_config('jwt.claims.org_id', $2, true),
              set_config('jwt.claims.alert_source_id', $3, true)`,
      [services.database.roles.visitor, source.organizationId, source.id],
    );
    return fn(client);
  });
}

export function applyAlerts(
  services: Services,
  actor: HookActor,
  source: HookSource,
  alerts: NormalizedAlert[],
  idempotencyKey: string | null,
  body: Buffer,
): Promise<AppliedAlerts> {
  const work = async (client: PoolClient): Promise<AppliedAlerts> => {
    const requestHash = createHash("sha256").update(body).digest("hex");
    if (idempotencyKey !== null) {
      const { rows } = await client.query<{ response: AlertSummary | null }>(
        "select app_hidden.claim_alert_idempotency_key($1, $2, $3) as response",
        [source.id, idempotencyKey, requestHash],
      );
      if (rows[0]?.response) return { summary: rows[0].response, replayed: true };
    }
    const { rows } = await client.query<{ summary: AlertSummary }>(
      "select app_hidden.receive_alerts($1, $2::jsonb) as summary",
      [source.id, JSON.stringify(alerts)],
    );
    const summary = rows[0]!.summary;
    if (idempotencyKey !== null) {
      await client.query("select app_hidden.remember_alert_response($1, $2, $3::jsonb)", [
        source.id,
        idempotencyKey,
        JSON.stringify(summary),
      ]);
    }
    return { summary, replayed: false };
  };
  return actor.kind === "apiKey"
    ? withRequestTransaction(services, actor.identity, work)
    : withAlertSourceTransaction(services, source, work);
}
