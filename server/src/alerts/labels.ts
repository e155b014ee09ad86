/**
 * What Alertmanager and Grafana have in common: alerts as label sets with annotations, a
 * per-alert fingerprint and status. Both map onto a normalized alert the same way.
 */
import { z } from "zod";
import {
  clampMessage,
  clampTitle,
  isoTime,
  MAX_ALERTS_PER_REQUEST,
  severityFromWord,
  type NormalizedAlert,
} from "./normalizedAlert.ts";

const stringMap = z.record(z.string(), z.string());

export const labelledAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: stringMap,
  annotations: stringMap.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(200).optional(),
});

export type LabelledAlert = z.infer<typeof labelledAlertSchema>;

export const labelledAlertsSchema = z.array(labelledAlertSchema).min(1).max(MAX_ALERTS_PER_REQUEST);

/** Labels that name the affected service, in order of preference. */
const SERVICE_LABELS = ["service", "service_name", "component", "app"];

export function normalizeLabelledAlert(alert: LabelledAlert, fingerprint: string): NormalizedAlert {
  const { labels, annotations } = alert;
  const title = annotations.summary ?? annotations.title ?? labels.alertname ?? "Alert";
  const details = [
    annotations.description ?? annotations.message,
    alert.generatorURL && `Source: ${alert.generatorURL}`,
  ]
    .filter(Boolean)
    .join("\n\n");
  const service = SERVICE_LABELS.map((name) => labels[name]).find((value) => value?.trim());
  return {
    fingerprint,
    status: alert.status,
    title: clampTitle(labels.alertname && title !== labels.alertname ? `${labels.alertname}: ${title}` : title),
    severity: severityFromWord(labels.severity ?? labels.priority),
    service: service ?? null,
    message: clampMessage(details),
    occurred_at: alert.status === "resolved" ? isoTime(alert.endsAt) : isoTime(alert.startsAt),
  };
}
