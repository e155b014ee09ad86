/**
 * Access tokens: HS256 JWTs naming a session, a user and the active organization. The
 * database re-checks everything they say (the session can be revoked, the membership
 * removed), so a token only selects; it never grants.
 */
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from "node:crypto";
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

/** A key id that names a secret without revealing it: the first bytes of its SHA-256. */
const keyIdOf = (secret: string) => createHash("sha256").update(secret).digest("base64url").slice(0, 12);

/**
 * Signs with the current secret and names it in the token's `kid`. Verifies with the secret
 * the `kid` names, among the current one and any previous ones still accepted, so the secret
 * can be rotated without signing everybody out: tokens signed before keep working until
 * they expire, and the old secret is dropped after that.
 */
export class TokenService {
  // Key objects made once: given a string, jsonwebtoken first tries (and fails) to parse it
  // as a public key on every call, and the thrown error costs more than the verification.
  private readonly secret: KeyObject;
  private readonly keyId: string;
  private readonly secretsByKeyId: Map<string, KeyObject>;

  constructor(
    secret: string,
    private readonly lifetimeSeconds: number,
    previousSecrets: readonly string[] = [],
  ) {
    this.secret = createSecretKey(Buffer.from(secret));
    this.keyId = keyIdOf(secret);
    this.secretsByKeyId = new Map(
      [secret, ...previousSecrets].map((value) => [keyIdOf(value), createSecretKey(Buffer.from(value))]),
    );
  }

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
        keyid: this.keyId,
        audience: TOKEN_AUDIENCE,
        issuer: TOKEN_ISSUER,
        subject: claims.userId,
        expiresIn: this.lifetimeSeconds,
      },
    );
  }

  verify(token: string): TokenClaims {
    const header = jwt.decode(token, { complete: true })?.header;
    // Tokens from before key ids were introduced carry none: they can only be the current secret's.
    const secret = header?.kid === undefined ? this.secret : this.secretsByKeyId.get(header.kid);
    if (!secret) throw new InvalidTokenError("invalid");
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, secret, {
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
  csrfTokenFor(sessionId: string, secret = this.secret): string {
    return createHmac("sha256", secret).update(`csrf:${sessionId}`).digest("base64url");
  }

  /** Accepts the token of any secret still accepted, so a rotation does not break open pages. */
  csrfTokenMatches(sessionId: string, candidate: string | undefined): boolean {
    if (!candidate) return false;
    const given = Buffer.from(candidate);
    return [...this.secretsByKeyId.values()].some((secret) => {
      const expected = Buffer.from(this.csrfTokenFor(sessionId, secret));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }
}
