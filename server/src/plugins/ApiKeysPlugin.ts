/**
 * createApiKey: the clear key leaves the database exactly once, in this mutation's answer.
 * The database (app_hidden.create_api_key) checks the caller and stores only the hash.
 */
import { get, type Step } from "postgraphile/grafast";
import { sideEffectWithPgClientTransaction } from "postgraphile/@dataplan/pg";
import { extendSchema, gql } from "postgraphile/utils";

export const ApiKeysPlugin = extendSchema((build) => {
  const { api_keys: apiKeys } = build.input.pgRegistry.pgResources;
  if (!apiKeys) throw new Error("ApiKeysPlugin needs the api_keys table");

  return {
    typeDefs: gql`
      input CreateApiKeyInput {
        name: String!
        "viewer, editor or admin: what the key may do in the organization, like a member with that role."
        role: MembershipRole = viewer
        expiresAt: Datetime
      }

      type CreateApiKeyPayload {
        apiKey: ApiKey
        "The key itself (ipk_…). Shown once: only a hash is kept."
        token: String!
      }

      extend type Mutation {
        "Creates an API key for the active organization (owners and admins)."
        createApiKey(input: CreateApiKeyInput!): CreateApiKeyPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          createApiKey(_$root, { $input }) {
            return sideEffectWithPgClientTransaction(apiKeys.executor, $input as Step, async (client, input) => {
              const { name, role, expiresAt } = input as {
                name: string;
                role: string | null;
                expiresAt: string | null;
              };
              const { rows } = await client.query<{ api_key_id: string; token: string }>({
                text: "select k.api_key_id, k.token from app_hidden.create_api_key($1, $2::app_public.membership_role, $3) k",
                values: [name, role ?? "viewer", expiresAt],
              });
              return rows[0]!;
            });
          },
        },
      },
      CreateApiKeyPayload: {
        plans: {
          apiKey($issued: Step) {
            return apiKeys.get({ id: get($issued, "api_key_id") });
          },
        },
      },
    },
  };
});
