/** Turns a request body into normalized alerts, by the source's format. */
import { z } from "zod";
import { parseAlertmanager } from "./alertmanager.ts";
import { parseGeneric } from "./generic.ts";
import { parseGrafana } from "./grafana.ts";
import { InvalidPayloadError, type NormalizedAlert } from "./normalizedAlert.ts";

export type AlertSourceFormat = "generic" | "alertmanager" | "grafana";

const PARSERS: Record<AlertSourceFormat, (payload: unknown) => NormalizedAlert[]> = {
  generic: parseGeneric,
  alertmanager: parseAlertmanager,
  grafana: parseGrafana,
};

/** Throws InvalidPayloadError, with the paths of what is wrong, for anything unreadable. */
export function parseAlerts(format: AlertSourceFormat, body: Buffer): NormalizedAlert[] {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch {
    throw new InvalidPayloadError("The body is not JSON.");
  }
  try {
    return PARSERS[format](payload);
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    throw new InvalidPayloadError(
      `The body is not a ${format} alert payload.`,
      error.issues.slice(0, 20).map((issue) => ({ path: issue.path.join("."), message: issue.message })),
    );
  }
}
