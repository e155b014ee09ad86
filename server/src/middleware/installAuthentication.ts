/**
 * Verifies the caller's credentials before GraphQL or a REST route sees the request, so a bad
 * one gets a clean HTTP 401 with a coded error (errors raised inside pgSettings lose their
 * codes): a session token (whose session must still be active: logout and password changes
 * revoke at once) or an API key (`Bearer ipk_…`, checked by the database).
 */
import type { Express, NextFunction, Request, Response } from "express";
import { clearSessionCookies, CSRF_HEADER, SESSION_COOKIE, type RequestIdentity } from "../auth/session.ts";
import { looksLikeApiKey } from "../auth/apiKeys.ts";
import { InvalidTokenError } from "../auth/tokens.ts";
import { errorBody } from "../errors.ts";
import type { Services } from "../services.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const BEARER = /^Bearer\s+([A-Za-z0-9\-_.]+)\s*$/i;

export function authenticationMiddleware(services: Services) {
  const { tokens, ownerPool, apiKeys } = services;

  const refuse = (
    res: Response,
    identitySource: "bearer" | "cookie",
    code: string,
    message: string,
    reason: string,
  ) => {
    if (identitySource === "cookie") clearSessionCookies(res);
    const status = code === "CSRF_TOKEN_INVALID" ? 403 : 401;
    if (status === 401) res.setHeader("WWW-Authenticate", `Bearer error="invalid_token"`);
    res.status(status).json(errorBody(code, message, { reason }));
  };

  return async function authenticate(req: Request, res: Response, next: NextFunction) {
    const header = req.headers.authorization;
    const cookieToken = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    let token: string | undefined;
    let source: RequestIdentity["source"];
    if (header !== undefined) {
      source = "bearer";
      token = BEARER.exec(header)?.[1];
      if (!token)
        return refuse(res, source, "INVALID_TOKEN", "The Authorization header must be 'Bearer <token>'.", "malformed");
    } else if (cookieToken) {
      source = "cookie";
      token = cookieToken;
    } else {
      req.identity = null;
      return next();
    }

    if (source === "bearer" && looksLikeApiKey(token)) {
      try {
        const check = await apiKeys.check(token);
        if (check.valid) {
          req.identity = check.identity;
          return next();
        }
        if (check.reason === "rate_limited") {
          res.setHeader("Retry-After", String(check.retryAfterSeconds ?? 60));
          res.status(429).json(
            errorBody("RATE_LIMITED", "Too many requests with this API key.", {
              retryAfterSeconds: check.retryAfterSeconds,
            }),
          );
          return;
        }
        const messages = {
          malformed: "This is not a valid API key.",
          unknown: "This API key does not exist.",
          revoked: "This API key has been revoked.",
          expired: "This API key has expired.",
        };
        return refuse(res, source, "INVALID_API_KEY", messages[check.reason], check.reason);
      } catch (error) {
        return next(error);
      }
    }

    let identity: Extract<RequestIdentity, { kind: "session" }>;
    try {
      identity = { kind: "session", claims: tokens.verify(token), source };
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) return next(error);
      const message =
        error.reason === "expired" ? "Your session token has expired." : "The session token is not valid.";
      return refuse(res, source, "INVALID_TOKEN", message, error.reason);
    }

    try {
      const { rows } = await ownerPool.query<{ active: boolean }>(
        "select app_private.session_is_active($1, $2) as active",
        [identity.claims.sessionId, identity.claims.userId],
      );
      if (!rows[0]?.active)
        return refuse(res, source, "INVALID_TOKEN", "This session has ended. Sign in again.", "revoked");
    } catch (error) {
      return next(error);
    }

    if (source === "cookie" && !SAFE_METHODS.has(req.method)) {
      if (!tokens.csrfTokenMatches(identity.claims.sessionId, req.get(CSRF_HEADER))) {
        return refuse(
          res,
          source,
          "CSRF_TOKEN_INVALID",
          `Send the ${CSRF_HEADER} header with cookie sessions.`,
          "csrf",
        );
      }
    }

    req.identity = identity;
    next();
  };
}

export function installAuthentication(app: Express, services: Services): void {
  app.use("/graphql", authenticationMiddleware(services));
}
