/**
 * How a request proves who it is, and how sign-in hands out proof.
 *
 * API clients send `Authorization: Bearer <token>`. Browsers hold the same token in an
 * httpOnly, SameSite=Lax cookie (never in localStorage) and, for anything but a read, echo the
 * session's CSRF token from a readable cookie in the `X-CSRF-Token` header.
 */
import type { Request, Response } from "express";
import type { Services } from "../services.ts";
import type { MembershipRole, TokenClaims } from "./tokens.ts";

export const SESSION_COOKIE = "ip_session";
export const CSRF_COOKIE = "ip_csrf";
export const CSRF_HEADER = "x-csrf-token";

/** Who is calling: a person's session (token or cookie) or an API key. */
export type RequestIdentity =
  | { kind: "session"; claims: TokenClaims; source: "bearer" | "cookie" }
  | { kind: "apiKey"; apiKeyId: string; organizationId: string; role: MembershipRole; source: "bearer" };

declare global {
  namespace Express {
    interface Request {
      /** Set by the authentication middleware: null for anonymous requests. */
      identity?: RequestIdentity | null;
    }
  }
}

export interface IssuedSession {
  token: string;
  csrfToken: string;
}

/** Per-request handle the auth mutations use to sign in, switch and sign out. */
export class SessionControl {
  constructor(
    private readonly services: Pick<Services, "tokens" | "loginThrottle" | "config">,
    private readonly req: Request | undefined,
    private readonly res: Response | undefined,
  ) {}

  get clientAddress(): string {
    return this.req?.ip ?? "unknown";
  }

  get identity(): RequestIdentity | null {
    return this.req?.identity ?? null;
  }

  get throttle() {
    return this.services.loginThrottle;
  }

  /** Signs a token for the claims and, for browsers, sets the session and CSRF cookies. */
  issue(claims: TokenClaims): IssuedSession {
    const token = this.services.tokens.sign(claims);
    const csrfToken = this.services.tokens.csrfTokenFor(claims.sessionId);
    if (this.res) {
      const secure = this.services.config.production;
      const maxAge = this.services.config.SESSION_DAYS * 24 * 3600 * 1000;
      this.res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge });
      this.res.cookie(CSRF_COOKIE, csrfToken, { httpOnly: false, sameSite: "lax", secure, path: "/", maxAge });
    }
    return { token, csrfToken };
  }

  clear(): void {
    clearSessionCookies(this.res);
  }
}

export function clearSessionCookies(res: Response | undefined): void {
  res?.clearCookie(SESSION_COOKIE, { path: "/" });
  res?.clearCookie(CSRF_COOKIE, { path: "/" });
}
