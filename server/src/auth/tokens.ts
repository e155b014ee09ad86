/**
 * Access tokens: HS256 JWTs naming a session, a user and the active organization. The
 * database re-checks everything they say (the session can be revoked, the membership
 * removed), so a token only selects; it never grants.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import jwt from "jsonwebtoken";

export const TOKEN_AUDIENCE = "incidentpulse";
export const TOKEN_ISSUER = "incidentpulse";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type MembershipRole = "owner" | "admin" | "editor" | "viewer";
const ROLES: readonly string[] = ["owner", "admin", "editor", "viewer"];

/** What a verified token says about its bearer. */
export interface TokenClaims {
  sessionId: string;
  userId: string;
  organizationId: string | null;
  membershipRole: MembershipRole | null;
}

export class InvalidTokenError extends Error {
  constructor(readonly reason: "malformed" | "expired" | "invalid") {
    super(`token ${reason}`);
  }
}

export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly lifetimeSeconds: number,
  ) {}

  sign(claims: TokenClaims): string {
    return jwt.sign(
      {
        sid: claims.sessionId,
        org: claims.organizationId ?? undefined,
        role: claims.membershipRole ?? undefined,
      },
      this.secret,
      {
        algorithm: "HS256",
        audience: TOKEN_AUDIENCE,
        issuer: TOKEN_ISSUER,
        subject: claims.userId,
        expiresIn: this.lifetimeSeconds,
      },
    );
  }

  verify(token: string): TokenClaims {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.secret, {
        algorithms: ["HS256"],
        audience: TOKEN_AUDIENCE,
        issuer: TOKEN_ISSUER,
        complete: false,
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new InvalidTokenError("expired");
      throw new InvalidTokenError(error instanceof jwt.JsonWebTokenError ? "invalid" : "malformed");
    }
    if (typeof payload !== "object" || typeof payload.exp !== "number") throw new InvalidTokenError("invalid");
    const { sub, sid, org, role } = payload as Record<string, unknown>;
    if (typeof sub !== "string" || !UUID.test(sub) || typeof sid !== "string" || !UUID.test(sid)) {
      throw new InvalidTokenError("invalid");
    }
    if (org !== undefined && (typeof org !== "string" || !UUID.test(org))) throw new InvalidTokenError("invalid");
    if (role !== undefined && (typeof role !== "string" || !ROLES.includes(role))) {
      throw new InvalidTokenError("invalid");
    }
    return {
      sessionId: sid,
      userId: sub,
      organizationId: (org as string | undefined) ?? null,
      membershipRole: (role as MembershipRole | undefined) ?? null,
    };
  }

  /**
   * The CSRF token for cookie sessions: bound to the session, so an attacker cannot mint one,
   * and readable by our own pages only (same-origin cookie), which echo it in a header.
   */
  csrfTokenFor(sessionId: string): string {
    return createHmac("sha256", this.secret).update(`csrf:${sessionId}`).digest("base64url");
  }

  csrfTokenMatches(sessionId: string, candidate: string | undefined): boolean {
    if (!candidate) return false;
    const expected = Buffer.from(this.csrfTokenFor(sessionId));
    const given = Buffer.from(candidate);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
