/**
 * Creating webhook endpoints and chat integrations, and rotating an endpoint's secret: the
 * server generates and seals the secret (the database never sees it in clear), and the clear
 * `whsec_…` secret leaves exactly once, in the mutation's answer. The database functions check
 * the caller (a person, admin or owner) and validate the URL and event types.
 * Tests, redeliveries, updates and deletes are plain database mutations (sendTestWebhook,
 * sendTestChatMessage, redeliverWebhook, updateWebhookEndpoint, …).
 */
import { context, get, object, type Step } from "postgraphile/grafast";
import { sideEffectWithPgClientTransaction } from "postgraphile/@dataplan/pg";
import { extendSchema, gql } from "postgraphile/utils";
import { maskSecret } from "../integrations/secretBox.ts";
import { generateWebhookSecret } from "../integrations/webhooks/signature.ts";

/** An incoming-webhook URL shown after saving: its origin and last four characters. */
export function maskUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…${url.slice(-4)}`;
  } catch {
    return `…${url.slice(-4)}`;
  }
}

export const WebhooksPlugin = extendSchema((build) => {
  const { webhook_endpoints: endpoints, chat_integrations: chatIntegrations } = build.input.pgRegistry.pgResources;
  if (!endpoints || !chatIntegrations)
    throw new Error("WebhooksPlugin needs the webhook_endpoints and chat_integrations tables");

  return {
    typeDefs: gql`
      input CreateWebhookEndpointInput {
        "Where events are POSTed (http or https; it must resolve to a public address)."
        url: String!
        description: String
        "Event types to send (see eventTypes); empty or omitted: every type."
        eventTypes: [String!]
        "Also send events about internal incidents, internal notes and hidden services."
        includeInternal: Boolean = false
      }

      type CreateWebhookEndpointPayload {
        webhookEndpoint: WebhookEndpoint
        "The signing secret (whsec_…), for verifying the webhook-signature header. Shown once."
        secret: String!
      }

      input RotateWebhookEndpointSecretInput {
        webhookEndpointId: UUID!
      }

      type RotateWebhookEndpointSecretPayload {
        webhookEndpoint: WebhookEndpoint
        "The new signing secret (whsec_…); the old one stops working at once. Shown once."
        secret: String!
      }

      input CreateChatIntegrationInput {
        kind: ChatKind!
        "A label, e.g. the channel."
        name: String!
        "The incoming-webhook URL the chat service gave you. Stored encrypted and shown masked."
        url: String!
        "Event types to post (see eventTypes); empty or omitted: every type."
        eventTypes: [String!]
        "Also post events about internal incidents, internal notes and hidden services."
        includeInternal: Boolean = false
      }

      type CreateChatIntegrationPayload {
        chatIntegration: ChatIntegration
      }

      extend type Mutation {
        "Registers a webhook endpoint for the active organization (owners and admins); answers its secret once."
        createWebhookEndpoint(input: CreateWebhookEndpointInput!): CreateWebhookEndpointPayload
        "Replaces an endpoint's signing secret (owners and admins); answers the new secret once."
        rotateWebhookEndpointSecret(input: RotateWebhookEndpointSecretInput!): RotateWebhookEndpointSecretPayload
        "Adds a Slack, Discord or Microsoft Teams incoming webhook (owners and admins)."
        createChatIntegration(input: CreateChatIntegrationInput!): CreateChatIntegrationPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          createWebhookEndpoint(_$root, { $input }) {
            const $args = object({ input: $input as Step, secrets: context().get("secrets") });
            return sideEffectWithPgClientTransaction(endpoints.executor, $args, async (client, { input, secrets }) => {
              const { url, description, eventTypes, includeInternal } = input as {
                url: string;
                description: string | null;
                eventTypes: string[] | null;
                includeInternal: boolean | null;
              };
              const secret = generateWebhookSecret();
              const { rows } = await client.query<{ id: string }>({
                text: "select app_hidden.register_webhook_endpoint($1, $2, $3, $4, $5, $6) as id",
                values: [url, description, eventTypes, includeInternal, secrets.seal(secret), maskSecret(secret)],
              });
              return { id: rows[0]!.id, secret };
            });
          },

          rotateWebhookEndpointSecret(_$root, { $input }) {
            const $args = object({ input: $input as Step, secrets: context().get("secrets") });
            return sideEffectWithPgClientTransaction(endpoints.executor, $args, async (client, { input, secrets }) => {
              const { webhookEndpointId } = input as { webhookEndpointId: string };
              const secret = generateWebhookSecret();
              const { rows } = await client.query<{ id: string }>({
                text: "select app_hidden.replace_webhook_endpoint_secret($1, $2, $3) as id",
                values: [webhookEndpointId, secrets.seal(secret), maskSecret(secret)],
              });
              return { id: rows[0]!.id, secret };
            });
          },

          createChatIntegration(_$root, { $input }) {
            const $args = object({ input: $input as Step, secrets: context().get("secrets") });
            return sideEffectWithPgClientTransaction(
              chatIntegrations.executor,
              $args,
              async (client, { input, secrets }) => {
                const { kind, name, url, eventTypes, includeInternal } = input as {
                  kind: string;
                  name: string;
                  url: string;
                  eventTypes: string[] | null;
                  includeInternal: boolean | null;
                };
                const trimmed = url.trim();
                const { rows } = await client.query<{ id: string }>({
                  text: "select app_hidden.register_chat_integration($1::app_public.chat_kind, $2, $3, $4, $5, $6, $7) as id",
                  values: [kind, name, trimmed, eventTypes, includeInternal, secrets.seal(trimmed), maskUrl(trimmed)],
                });
                return { id: rows[0]!.id };
              },
            );
          },
        },
      },
      CreateWebhookEndpointPayload: {
        plans: {
          webhookEndpoint($created: Step) {
            return endpoints.get({ id: get($created, "id") });
          },
          secret($created: Step) {
            return get($created, "secret");
          },
        },
      },
      RotateWebhookEndpointSecretPayload: {
        plans: {
          webhookEndpoint($rotated: Step) {
            return endpoints.get({ id: get($rotated, "id") });
          },
          secret($rotated: Step) {
            return get($rotated, "secret");
          },
        },
      },
      CreateChatIntegrationPayload: {
        plans: {
          chatIntegration($created: Step) {
            return chatIntegrations.get({ id: get($created, "id") });
          },
        },
      },
    },
  };
});
