/**
 * Integration secrets (alert-source signing secrets, webhook `whsec_` secrets) must be usable
 * again later (to check or make an HMAC), so they cannot be hashed like API keys. They are
 * stored encrypted with AES-256-GCM under a key only the server holds; the database keeps
 * ciphertext the API roles cannot read, plus a masked hint for display.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  readonly #key: Buffer;

  constructor(keyMaterial: string) {
    if (keyMaterial.length < 32) throw new Error("The secrets encryption key must be at least 32 characters.");
    // Any long random string is accepted; SHA-256 turns it into exactly 32 key bytes.
    this.#key = createHash("sha256").update(`incidentpulse/secret-box/v1:${keyMaterial}`).digest();
  }

  /** version (1 byte) | IV (12) | auth tag (16) | ciphertext */
  seal(plaintext: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws when the box was sealed under another key or was tampered with. */
  open(sealed: Buffer): string {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_VERSION) {
      throw new Error("Not a sealed secret.");
    }
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      "utf8",
    );
  }
}

/** A random secret with a readable prefix, e.g. `whsec_…` (Standard Webhooks) or `ipas_…`. */
export function generateSecret(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

/** What the API shows after creation: the prefix and the last four characters. */
export function maskSecret(secret: string): string {
  const prefix = /^[a-z]+_/.exec(secret)?.[0] ?? "";
  return `${prefix}…${secret.slice(-4)}`;
}
