/** How the delivery log reads: the outcome of an attempt in words, and when to look again. */
import { formatDateTime } from "../../lib/format.ts";
import type { DeliveryRow, DeliveryTarget } from "./queries.ts";

/** How often the log re-reads while an attempt is under way. */
export const POLL_MS = 2_000;

/**
 * The worker writes the log and announces nothing on the live stream, so the log re-reads by
 * itself while an attempt is pending and due within the next minute (a test just sent, a
 * retry about to run); attempts due later are not worth a request every two seconds.
 */
export function shouldPoll(rows: Pick<DeliveryRow, "status" | "scheduledAt">[], now = Date.now()): boolean {
  return rows.some((row) => row.status === "pending" && Date.parse(row.scheduledAt) <= now + 60_000);
}

export function formatDurationMs(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** What happened to an attempt, beyond its status: the error, or when the next try is due. */
export function deliveryNote(row: DeliveryRow): string {
  if (row.status === "pending") return `Due ${formatDateTime(row.scheduledAt)}`;
  const parts: string[] = [];
  if (row.error) parts.push(row.error);
  if (row.status === "failed")
    parts.push(row.nextAttemptAt ? `Next attempt ${formatDateTime(row.nextAttemptAt)}` : "No further attempts");
  return parts.join(". ");
}

/** The GraphQL condition selecting one target's deliveries. */
export function conditionOf(target: DeliveryTarget): Record<string, string> {
  return "webhookEndpointId" in target
    ? { webhookEndpointId: target.webhookEndpointId }
    : { chatIntegrationId: target.chatIntegrationId };
}
