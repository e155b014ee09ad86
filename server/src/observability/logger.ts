/**
 * Structured JSON logs (pino), one object per line. Whatever could carry a credential is
 * redacted at the source: authorization and cookie headers, set-cookie, and any field named
 * like a password, token, key or secret. Request URLs are logged without their query string,
 * since confirmation and unsubscribe links carry tokens there.
 */
import pino, { type Logger } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-csrf-token"]',
  'req.headers["stripe-signature"]',
  'req.headers["x-incidentpulse-signature"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.newPassword",
  "*.token",
  "*.secret",
  "*.apiKey",
  "*.key",
];

export interface LoggerOptions {
  level: string;
  /** Where lines go; standard output unless a test collects them. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service: "incidentpulse" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** The path of a request URL, without the query string (it may carry tokens). */
export function pathOf(url: string | undefined): string {
  if (!url) return "";
  const end = url.indexOf("?");
  return end === -1 ? url : url.slice(0, end);
}
