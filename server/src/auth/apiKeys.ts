/**
 * API keys: `ipk_` + 32 random bytes (base64url, 43 characters) + the first 6 hex characters
 * of the body's SHA-256. The checksum turns typos and truncated keys away before any lookup;
 * the database keeps only the key's SHA-256 and decides whether it is valid.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RequestIdentity } from "./session.ts";
import type { MembershipRole } from "./tokens.ts";

const API_KEY = /^ipk_([A-Za-z0-9_-]{43})([0-9a-f]{6})$/;

export const looksLikeApiKey = (token: string) => token.startsWith("ipk_");

export function hasValidChecksum(token: string): boolean {
  const match = API_KEY.exec(token);
  if (!match) return false;
  return createHash("sha256").update(match[1]!).digest("hex").slice(0, 6) === match[2];
}

export type ApiKeyCheck =
  | { valid: true; identity: Extract<RequestIdentity, { kind: "apiKey" }> }
  | {
      valid: false;
      reason: "malformed" | "unknown" | "revoked" | "expired" | "rate_limited";
      retryAfterSeconds?: number;
    };

export class ApiKeyVerifier {
  private readonly rateLimiter: RateLimiterMemory;

  constructor(
    private readonly ownerPool: pg.Pool,
    requestsPerMinute: number,
  ) {
    // Per process: a key's budget is per web process, which is what protects each one.
    this.rateLimiter = new RateLimiterMemory({ points: requestsPerMinute, duration: 60, keyPrefix: "api-key" });
  }

  async check(token: string): Promise<ApiKeyCheck> {
    if (!hasValidChecksum(token)) return { valid: false, reason: "malformed" };
    const { rows } = await this.ownerPool.query<{
      api_key_id: string | null;
      organization_id: string | null;
      role: MembershipRole | null;
      state: "unknown" | "revoked" | "expired" | "valid";
    }>("select * from app_private.authenticate_api_key($1)", [token]);
    const row = rows[0];
    if (!row) return { valid: false, reason: "unknown" };
    if (row.state !== "valid") return { valid: false, reason: row.state };
    try {
      await this.rateLimiter.consume(row.api_key_id!);
    } catch (rejection) {
      const retryAfterSeconds = rejection instanceof RateLimiterRes ? Math.ceil(rejection.msBeforeNext / 1000) : 60;
      return { valid: false, reason: "rate_limited", retryAfterSeconds };
    }
    return {
      valid: true,
      identity: {
        kind: "apiKey",
        apiKeyId: row.api_key_id!,
        organizationId: row.organization_id!,
        role: row.role!,
        source: "bearer",
      },
    };
  }
}
