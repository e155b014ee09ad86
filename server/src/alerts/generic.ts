/**
 * The generic format, for scripts and tools without a dedicated one (documented in README.md):
 * one alert object, or an array of them.
 *
 *   { "title": "Checkout error rate above 5%", "severity": "critical", "service": "checkout",
 *     "status": "firing", "fingerprint": "checkout-errors", "message": "…",
 *     "occurred_at": "2025-06-03T09:14:07Z" }
 *
 * Only `title` is required. `status` defaults to firing; without a fingerprint the title and
 * service identify the alert.
 */
import { z } from "zod";
import {
  clampMessage,
  clampTitle,
  derivedFingerprint,
  isoTime,
  MAX_ALERTS_PER_REQUEST,
  severityFromWord,
  type NormalizedAlert,
} from "./normalizedAlert.ts";

export const genericAlertSchema = z.object({
  title: z.string().trim().min(1).max(1000),
  severity: z.string().max(50).optional(),
  service: z.string().trim().max(200).optional(),
  status: z.enum(["firing", "resolved"]).default("firing"),
  fingerprint: z.string().trim().min(1).max(200).optional(),
  message: z.string().max(100_000).optional(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
});

const genericAlertsSchema = z.array(genericAlertSchema).min(1).max(MAX_ALERTS_PER_REQUEST);

export function parseGeneric(payload: unknown): NormalizedAlert[] {
  // Not a union: its errors would not say which field is wrong.
  const alerts = Array.isArray(payload) ? genericAlertsSchema.parse(payload) : [genericAlertSchema.parse(payload)];
  return alerts.map((alert) => ({
    fingerprint: alert.fingerprint ?? derivedFingerprint(alert.title, alert.service),
    status: alert.status,
    title: clampTitle(alert.title),
    severity: severityFromWord(alert.severity),
    service: alert.service || null,
    message: clampMessage(alert.message),
    occurred_at: isoTime(alert.occurred_at),
  }));
}
