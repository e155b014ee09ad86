/**
 * Token signing and verification, including rotating the secret without signing people out.
 */
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { InvalidTokenError, TokenService, type TokenClaims } from "../src/auth/tokens.ts";

const OLD = "old-secret-old-secret-old-secret-old-secret";
const NEW = "new-secret-new-secret-new-secret-new-secret";
const claims: TokenClaims = {
  sessionId: "11111111-1111-4111-8111-111111111111",
  userId: "22222222-2222-4222-8222-222222222222",
  organizationId: "33333333-3333-4333-8333-333333333333",
  membershipRole: "editor",
};

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof InvalidTokenError ? error.reason : "other";
  }
  return "accepted";
};

describe("TokenService", () => {
  it("round-trips the claims and names its key", () => {
    const service = new TokenService(NEW, 600);
    const token = service.sign(claims);
    expect(service.verify(token)).toEqual(claims);
    expect(jwt.decode(token, { complete: true })!.header).toMatchObject({ alg: "HS256", kid: expect.any(String) });
  });

  it("keeps tokens of a previous secret valid during a rotation, and only then", () => {
    const before = new TokenService(OLD, 600);
    const oldToken = before.sign(claims);
    const rotating = new TokenService(NEW, 600, [OLD]);
    expect(rotating.verify(oldToken)).toEqual(claims);
    expect(rotating.verify(rotating.sign(claims))).toEqual(claims);
    const rotated = new TokenService(NEW, 600);
    expect(reasonOf(() => rotated.verify(oldToken))).toBe("invalid");
  });

  it("refuses an unknown key id and a key id that does not match the signature", () => {
    const service = new TokenService(NEW, 600, [OLD]);
    const unknownKid = jwt.sign({ sid: claims.sessionId }, NEW, {
      algorithm: "HS256",
      keyid: "not-a-key-id",
      subject: claims.userId,
      audience: "incidentpulse",
      issuer: "incidentpulse",
      expiresIn: 600,
    });
    expect(reasonOf(() => service.verify(unknownKid))).toBe("invalid");
    const [, payload, signature] = new TokenService(OLD, 600).sign(claims).split(".");
    const newHeader = new TokenService(NEW, 600).sign(claims).split(".")[0];
    expect(reasonOf(() => service.verify(`${newHeader}.${payload}.${signature}`))).toBe("invalid");
  });

  it("accepts CSRF tokens of every secret still accepted", () => {
    const before = new TokenService(OLD, 600);
    const rotating = new TokenService(NEW, 600, [OLD]);
    expect(rotating.csrfTokenMatches(claims.sessionId, before.csrfTokenFor(claims.sessionId))).toBe(true);
    expect(new TokenService(NEW, 600).csrfTokenMatches(claims.sessionId, before.csrfTokenFor(claims.sessionId))).toBe(
      false,
    );
    expect(rotating.csrfTokenMatches(claims.sessionId, "forged")).toBe(false);
  });
});
