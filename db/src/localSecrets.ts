/**
 * Secrets a development or embedded install generates once and keeps in DATA_DIR, so a
 * second start reuses the same database passwords and keeps existing tokens valid.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";

export interface LocalSecrets {
  superuserPassword: string;
  ownerPassword: string;
  authenticatorPassword: string;
  jwtSecret: string;
  /** Encrypts integration secrets at rest (SECRETS_ENCRYPTION_KEY when set). */
  secretsEncryptionKey: string;
}

const generate = (): LocalSecrets => ({
  superuserPassword: randomBytes(18).toString("base64url"),
  ownerPassword: randomBytes(18).toString("base64url"),
  authenticatorPassword: randomBytes(18).toString("base64url"),
  jwtSecret: randomBytes(48).toString("base64url"),
  secretsEncryptionKey: randomBytes(48).toString("base64url"),
});

export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = resolve(dataDir, "secrets.json");
  if (existsSync(file)) {
    const stored = JSON.parse(await readFile(file, "utf8")) as Partial<LocalSecrets>;
    const secrets = { ...generate(), ...stored };
    // A secret added in a later version is generated once and kept, like the first ones.
    if (Object.keys(secrets).length !== Object.keys(stored).length) {
      await writeFile(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
    }
    return secrets;
  }
  const secrets = generate();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}
