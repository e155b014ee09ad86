/**
 * Subscription tokens are minted by the worker, right before the email that carries them, so
 * the clear token exists only in that email: the database keeps its SHA-256 (computed there,
 * where the public links are checked). The permanent unsubscribe token goes into every
 * message, so it is also kept sealed with the server's key and opened again for each one.
 */
import type { PoolClient } from "pg";
import { generateSecret, type SecretBox } from "../integrations/secretBox.ts";

/** How long a confirmation link works; subscribing again mails a new one. */
export const CONFIRMATION_VALID_DAYS = 7;

/** A fresh confirmation token for the subscriber (earlier ones stay valid until they expire). */
export async function issueConfirmationToken(
  client: PoolClient,
  organizationId: string,
  subscriberId: string,
): Promise<string> {
  const token = generateSecret("ipsc_", 32);
  await client.query(
    `insert into app_private.subscriber_confirmation_tokens (token_hash, organization_id, subscriber_id, expires_at)
     values (public.digest($1::text, 'sha256'), $2, $3, now() + make_interval(days => $4))`,
    [token, organizationId, subscriberId, CONFIRMATION_VALID_DAYS],
  );
  return token;
}

/** The subscriber's permanent unsubscribe token, created on first use. */
export async function unsubscribeTokenFor(
  client: PoolClient,
  secrets: SecretBox,
  organizationId: string,
  subscriberId: string,
): Promise<string> {
  const read = async () => {
    const { rows } = await client.query<{ sealed_token: Buffer }>(
      `select sealed_token from app_private.subscriber_unsubscribe_tokens
       where organization_id = $1 and subscriber_id = $2`,
      [organizationId, subscriberId],
    );
    return rows[0] ? secrets.open(rows[0].sealed_token) : null;
  };
  const existing = await read();
  if (existing) return existing;
  const token = generateSecret("ipsu_", 32);
  // A concurrent job may create it first: then its token wins, read back below.
  await client.query(
    `insert into app_private.subscriber_unsubscribe_tokens (organization_id, subscriber_id, token_hash, sealed_token)
     values ($1, $2, public.digest($3::text, 'sha256'), $4)
     on conflict (organization_id, subscriber_id) do nothing`,
    [organizationId, subscriberId, token, secrets.seal(token)],
  );
  return (await read())!;
}
