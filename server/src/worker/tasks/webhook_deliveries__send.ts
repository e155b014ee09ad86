import type { Task } from "graphile-worker";
import { z } from "zod";
import { parseAllowList } from "../../integrations/webhooks/destinationGuard.ts";
import { postJson } from "../../integrations/webhooks/postJson.ts";
import { prepareDelivery } from "../../integrations/webhooks/prepareDelivery.ts";
import { nextAttemptAt } from "../../integrations/webhooks/retrySchedule.ts";
import type { WorkerContext } from "../index.ts";
import { tenantPayload, withOrganization } from "../tenantContext.ts";

const deliveryPayload = tenantPayload.extend({ deliveryId: z.string().uuid() });

/**
 * Makes one attempt at one delivery (a webhook or a chat message): prepares it in the
 * organization's transaction, posts it outside any transaction (a slow receiver holds no
 * connection), then records the outcome, which queues the next attempt or turns the target off.
 */
export function webhook_deliveries__send(context: WorkerContext): Task {
  const allowList = parseAllowList(context.config.WEBHOOK_ALLOWED_HOSTS);
  return async (payload, helpers) => {
    const { organizationId, deliveryId } = deliveryPayload.parse(payload);
    const prepared = await withOrganization(helpers, organizationId, (client) =>
      prepareDelivery(client, organizationId, deliveryId, {
        secrets: context.secrets,
        publicUrl: context.publicUrl(),
      }),
    );
    if (!prepared) return;
    const outcome = await postJson(prepared.url, prepared.body, prepared.headers, {
      allowList,
      timeoutMs: context.config.WEBHOOK_TIMEOUT_MS,
    });
    // Only automatic deliveries retry; a test or a redelivery is one attempt someone watches.
    const retryAt =
      prepared.origin === "event" ? nextAttemptAt(prepared.attempt, context.config.WEBHOOK_RETRY_BASE_MS) : null;
    await withOrganization(helpers, organizationId, (client) =>
      client.query("select app_private.record_webhook_attempt($1, $2, $3, $4, $5, $6, $7, $8)", [
        deliveryId,
        outcome.succeeded,
        outcome.startedAt,
        outcome.responseStatus,
        outcome.durationMs,
        outcome.responseBody,
        outcome.error,
        retryAt,
      ]),
    );
  };
}
