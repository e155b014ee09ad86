/**
 * How a hook request proves it knows its source's secret.
 *
 * - Signed (preferred): `X-IncidentPulse-Timestamp: <unix seconds>` and
 *   `X-IncidentPulse-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. The
 *   timestamp must be within five minutes of ours, so a captured request cannot be replayed
 *   later; several `v1=` values (comma-separated) are accepted, any one may match.
 * - The secret as a bearer token (`Authorization: Bearer ipas_…`), for Alertmanager and Grafana,
 *   which send a configured Authorization header but cannot compute a signature. TLS must
 *   protect it, as it protects API keys.
 *
 * Every comparison is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const TIMESTAMP_HEADER = "x-incidentpulse-timestamp";
export const SIGNATURE_HEADER = "x-incidentpulse-signature";
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type SignatureCheck = { valid: true } | { valid: false; reason: "malformed" | "stale" | "mismatch" };

export function computeSignature(secret: string, timestamp: string, body: Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** The header value a sender computes: `v1=<hex>`. */
export function signatureHeader(secret: string, timestamp: string, body: Buffer): string {
  return `v1=${computeSignature(secret, timestamp, body)}`;
}

function equalInConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  // Lengths are not secret (every signature is 64 hex characters); contents are.
  return left.length === right.length && timingSafeEqual(left, right);
}

export function verifySignature(
  secret: string,
  timestampHeader: string | undefined,
  signatureHeaderValue: string | undefined,
  body: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader) || !signatureHeaderValue) {
    return { valid: false, reason: "malformed" };
  }
  const candidates = signatureHeaderValue
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.startsWith("v1="))
    .map((part) => part.slice(3).toLowerCase());
  if (candidates.length === 0) return { valid: false, reason: "malformed" };
  if (Math.abs(nowSeconds - Number(timestampHeader)) > SIGNATURE_TOLERANCE_SECONDS) {
    return { valid: false, reason: "stale" };
  }
  const expected = computeSignature(secret, timestampHeader, body);
  // Compare with every candidate, so the time taken does not say which one matched.
  const matches = candidates.map((candidate) => equalInConstantTime(candidate, expected));
  return matches.includes(true) ? { valid: true } : { valid: false, reason: "mismatch" };
}

/** Compares digests, so neither the contents nor the length of the secret shows in the timing. */
export function secretMatches(secret: string, presented: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}
