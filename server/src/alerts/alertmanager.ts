/**
 * Prometheus Alertmanager's webhook payload (version 4): several alerts per request, each with
 * its own status and fingerprint. Unknown keys (newer releases add some) are ignored.
 */
import { z } from "zod";
import { labelledAlertsSchema, normalizeLabelledAlert } from "./labels.ts";
import type { NormalizedAlert } from "./normalizedAlert.ts";

export const alertmanagerPayloadSchema = z.object({
  version: z.literal("4"),
  alerts: labelledAlertsSchema,
});

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * Alertmanager's own fingerprint of a label set (prometheus/common model.LabelSet.Fingerprint:
 * FNV-1a 64 over the sorted names and values, each followed by 0xFF), for senders that omit
 * the field, so they still match what Alertmanager would send.
 */
export function labelSetFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET;
  const mix = (byte: number) => {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  };
  const names = Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    for (const byte of Buffer.from(name)) mix(byte);
    mix(SEPARATOR);
    for (const byte of Buffer.from(labels[name]!)) mix(byte);
    mix(SEPARATOR);
  }
  return hash.toString(16).padStart(16, "0");
}

export function parseAlertmanager(payload: unknown): NormalizedAlert[] {
  const { alerts } = alertmanagerPayloadSchema.parse(payload);
  return alerts.map((alert) => normalizeLabelledAlert(alert, alert.fingerprint ?? labelSetFingerprint(alert.labels)));
}
