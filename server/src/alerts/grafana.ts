/**
 * Grafana alerting's webhook contact point payload (version 1). Its alerts look like
 * Alertmanager's; the fingerprint also covers a hidden rule label, so it cannot be recomputed
 * from the visible labels: without one, the rule's UID and the labels identify the alert.
 */
import { z } from "zod";
import { labelledAlertSchema, normalizeLabelledAlert } from "./labels.ts";
import { derivedFingerprint, MAX_ALERTS_PER_REQUEST, type NormalizedAlert } from "./normalizedAlert.ts";

const grafanaAlertSchema = labelledAlertSchema.extend({ ruleUID: z.string().optional() });

export const grafanaPayloadSchema = z.object({
  alerts: z.array(grafanaAlertSchema).min(1).max(MAX_ALERTS_PER_REQUEST),
});

export function parseGrafana(payload: unknown): NormalizedAlert[] {
  const { alerts } = grafanaPayloadSchema.parse(payload);
  return alerts.map((alert) =>
    normalizeLabelledAlert(
      alert,
      alert.fingerprint ??
        derivedFingerprint(
          alert.ruleUID ?? alert.generatorURL,
          JSON.stringify(Object.entries(alert.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
        ),
    ),
  );
}
