/**
 * Who a hook request acts as. Three ways to prove it, checked in this order:
 *
 * 1. `Authorization: Bearer ipk_…`: an API key. The request then acts as that key, in the
 *    key's organization and with its role; the database refuses a viewer key (403) and does
 *    not find another organization's source (404).
 * 2. `Authorization: Bearer <source secret>`: for Alertmanager and Grafana, which can send a
 *    configured header but cannot sign.
 * 3. `X-IncidentPulse-Timestamp` + `X-IncidentPulse-Signature` (see signature.ts).
 *
 * With 2 or 3 the request acts as the alert source itself (jwt.claims.alert_source_id), which
 * the database treats as an editor of its organization while the source is enabled. This
 * keeps the hook on the same path as every other request: the authenticator pool switched to
 * the visitor role, under RLS, role checks and plan limits. The owner role (which the worker
 * uses) is never involved, so nothing here can reach past the tenant fence.
 */
import type { Request } from "express";
import { looksLikeApiKey } from "../auth/apiKeys.ts";
import type { RequestIdentity } from "../auth/session.ts";
import type { Services } from "../services.ts";
import type { HookSource } from "./hookSource.ts";
import { secretMatches, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from "./signature.ts";

export type HookActor =
  | { kind: "apiKey"; identity: Extract<RequestIdentity, { kind: "apiKey" }> }
  | { kind: "source"; method: "signature" | "secret" };

export type AuthenticatedBy = "signature" | "secret" | "api_key";

export type HookAuthentication =
  | { ok: true; actor: HookActor; authenticatedBy: AuthenticatedBy; apiKeyId: string | null }
  | {
      ok: false;
      authenticatedBy: null;
      apiKeyId: null;
      status: 401 | 429;
      code: "INVALID_SIGNATURE" | "INVALID_API_KEY" | "RATE_LIMITED";
      message: string;
      reason: string;
      retryAfterSeconds?: number;
    };

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const refused = (
  code: "INVALID_SIGNATURE" | "INVALID_API_KEY",
  message: string,
  reason: string,
): HookAuthentication => ({ ok: false, authenticatedBy: null, apiKeyId: null, status: 401, code, message, reason });

const API_KEY_MESSAGES = {
  malformed: "This is not a valid API key.",
  unknown: "This API key does not exist.",
  revoked: "This API key has been revoked.",
  expired: "This API key has expired.",
};

export async function authenticateHookRequest(
  services: Services,
  source: HookSource,
  req: Request,
  body: Buffer,
): Promise<HookAuthentication> {
  const authorization = req.get("authorization");
  if (authorization !== undefined) {
    const token = BEARER.exec(authorization)?.[1];
    if (!token) {
      return refused(
        "INVALID_SIGNATURE",
        "The Authorization header must be 'Bearer <secret or API key>'.",
        "malformed",
      );
    }
    if (looksLikeApiKey(token)) {
      const check = await services.apiKeys.check(token);
      if (check.valid) {
        const { identity } = check;
        // The request log belongs to the source's organization: it names only its own keys.
        const apiKeyId = identity.organizationId === source.organizationId ? identity.apiKeyId : null;
        return { ok: true, actor: { kind: "apiKey", identity }, authenticatedBy: "api_key", apiKeyId };
      }
      if (check.reason === "rate_limited") {
        return {
          ok: false,
          authenticatedBy: null,
          apiKeyId: null,
          status: 429,
          code: "RATE_LIMITED",
          message: "Too many requests with this API key.",
          reason: "api_key",
          retryAfterSeconds: check.retryAfterSeconds ?? 60,
        };
      }
      return refused("INVALID_API_KEY", API_KEY_MESSAGES[check.reason], check.reason);
    }
    if (source.secret !== null && secretMatches(source.secret, token)) {
      return { ok: true, actor: { kind: "source", method: "secret" }, authenticatedBy: "secret", apiKeyId: null };
    }
    return refused("INVALID_SIGNATURE", "The bearer token is not this alert source's secret.", "mismatch");
  }

  const timestamp = req.get(TIMESTAMP_HEADER);
  const signature = req.get(SIGNATURE_HEADER);
  if (timestamp === undefined && signature === undefined) {
    return refused(
      "INVALID_SIGNATURE",
      "Sign the request (X-IncidentPulse-Timestamp and X-IncidentPulse-Signature) or send a bearer token.",
      "missing",
    );
  }
  if (source.secret === null) {
    return refused("INVALID_SIGNATURE", "The signature does not match this request.", "mismatch");
  }
  const check = verifySignature(source.secret, timestamp, signature, body);
  if (check.valid) {
    return { ok: true, actor: { kind: "source", method: "signature" }, authenticatedBy: "signature", apiKeyId: null };
  }
  const messages = {
    malformed: "X-IncidentPulse-Timestamp must be Unix seconds and X-IncidentPulse-Signature 'v1=<hex HMAC>'.",
    stale: "The signature's timestamp is more than five minutes away from the server's time.",
    mismatch: "The signature does not match this request.",
  };
  return refused("INVALID_SIGNATURE", messages[check.reason], check.reason);
}
