/**
 * createAlertSource and rotateAlertSourceSecret: the only ways a source's secret comes into
 * being, and the only answers that ever carry it. The server generates the secret, seals it
 * with the context's SecretBox, and hands the database only the sealed bytes and a masked hint
 * (app_hidden.set_alert_source_secret), in the request's own transaction as the caller: RLS
 * and the role checks there decide who may (owners and admins, people only). Changing and
 * deleting sources use the generated updateAlertSource and deleteAlertSource.
 */
import { context, get, object, type Step } from "postgraphile/grafast";
import { sideEffectWithPgClientTransaction, type PgClient } from "postgraphile/@dataplan/pg";
import { extendSchema, gql } from "postgraphile/utils";
import { generateSecret, maskSecret, type SecretBox } from "../integrations/secretBox.ts";

/** Alert source secrets read `ipas_…` (IncidentPulse alert source), 32 random bytes. */
const SECRET_PREFIX = "ipas_";
const SECRET_BYTES = 32;

interface IssuedSecret {
  id: string;
  secret: string;
}

/** Clear codes before anything is written: IPF05 for API keys, IPF01 below admin. */
async function assertCanManageAlertSources(client: PgClient): Promise<void> {
  await client.query({
    text: "select app_hidden.assert_signed_in(), app_hidden.assert_org_role('admin', 'manage alert sources')",
  });
}

async function issueSecret(client: PgClient, secrets: SecretBox, sourceId: string): Promise<IssuedSecret> {
  const secret = generateSecret(SECRET_PREFIX, SECRET_BYTES);
  await client.query({
    text: "select 1 from app_hidden.set_alert_source_secret($1, $2, $3)",
    values: [sourceId, secrets.seal(secret), maskSecret(secret)],
  });
  return { id: sourceId, secret };
}

const hookPathOf = (id: string) => `/hooks/alerts/${id}`;

export const AlertSourcesPlugin = extendSchema((build) => {
  const { alert_sources: alertSources } = build.input.pgRegistry.pgResources;
  if (!alertSources) throw new Error("AlertSourcesPlugin needs the alert_sources table");
  const executor = alertSources.executor;

  return {
    typeDefs: gql`
      input CreateAlertSourceInput {
        name: String!
        "What the source sends: generic JSON, Alertmanager or Grafana."
        format: AlertSourceFormat = generic
        "The service an alert affects when it names none we know."
        defaultServiceId: UUID
        "The severity of an alert without one we recognise."
        defaultSeverity: IncidentSeverity = high
        "Visibility of the incidents the source opens."
        visibility: IncidentVisibility = internal
        enabled: Boolean = true
      }

      type CreateAlertSourcePayload {
        alertSource: AlertSource
        "The signing secret (ipas_…). Shown once: it cannot be read again, only rotated."
        secret: String!
        "Where the source sends its alerts: POST to this path on the server."
        hookPath: String!
      }

      input RotateAlertSourceSecretInput {
        "The source's rowId."
        id: UUID!
      }

      type RotateAlertSourceSecretPayload {
        alertSource: AlertSource
        "The new secret, shown once. The old one stops working at once."
        secret: String!
      }

      extend type Mutation {
        "Creates an alert source in the active organization and its secret (owners and admins)."
        createAlertSource(input: CreateAlertSourceInput!): CreateAlertSourcePayload
        "Replaces an alert source's secret (owners and admins)."
        rotateAlertSourceSecret(input: RotateAlertSourceSecretInput!): RotateAlertSourceSecretPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          createAlertSource(_$root, { $input }) {
            const $secrets = context().get("secrets");
            return sideEffectWithPgClientTransaction(
              executor,
              object({ input: $input as Step, secrets: $secrets }),
              async (client, { input, secrets }) => {
                const { name, format, defaultServiceId, defaultSeverity, visibility, enabled } = input as {
                  name: string;
                  format: string | null;
                  defaultServiceId: string | null;
                  defaultSeverity: string | null;
                  visibility: string | null;
                  enabled: boolean | null;
                };
                await assertCanManageAlertSources(client);
                // The caller's insert: the policies decide, as for any other row.
                const { rows } = await client.query<{ id: string }>({
                  text: `insert into app_public.alert_sources (name, format, default_service_id, default_severity, visibility, enabled)
                         values (btrim($1), coalesce($2::app_public.alert_source_format, 'generic'), $3,
                                 coalesce($4::app_public.incident_severity, 'high'),
                                 coalesce($5::app_public.incident_visibility, 'internal'), coalesce($6, true))
                         returning id`,
                  values: [name, format, defaultServiceId, defaultSeverity, visibility, enabled],
                });
                const issued = await issueSecret(client, secrets, rows[0]!.id);
                return { ...issued, hookPath: hookPathOf(issued.id) };
              },
            );
          },

          rotateAlertSourceSecret(_$root, { $input }) {
            const $secrets = context().get("secrets");
            return sideEffectWithPgClientTransaction(
              executor,
              object({ input: $input as Step, secrets: $secrets }),
              async (client, { input, secrets }) => {
                await assertCanManageAlertSources(client);
                return issueSecret(client, secrets, (input as { id: string }).id);
              },
            );
          },
        },
      },
      CreateAlertSourcePayload: {
        plans: {
          alertSource($issued: Step) {
            return alertSources.get({ id: get($issued, "id") });
          },
        },
      },
      RotateAlertSourceSecretPayload: {
        plans: {
          alertSource($issued: Step) {
            return alertSources.get({ id: get($issued, "id") });
          },
        },
      },
    },
  };
});
