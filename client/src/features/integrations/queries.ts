/**
 * The integrations' GraphQL documents and row shapes: outbound webhooks, chat integrations,
 * their shared delivery log, and inbound alert sources with their request log.
 */
import { gql } from "urql";
import type { Severity } from "../incidents/queries.ts";

export const EventTypesQuery = gql`
  query EventTypes {
    eventTypes
  }
`;

/** manual (a member turned it off) or failing (deliveries kept failing for about a day). */
export type DisabledReason = "manual" | "failing" | null;

export interface WebhookEndpointRow {
  rowId: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  includeInternal: boolean;
  secretHint: string;
  consecutiveFailures: number;
  disabledAt: string | null;
  disabledReason: DisabledReason;
  createdAt: string;
  createdBy: { name: string } | null;
}

export const WebhookEndpointsQuery = gql`
  query WebhookEndpoints {
    webhookEndpoints(orderBy: [CREATED_AT_DESC]) {
      nodes {
        rowId
        url
        description
        eventTypes
        enabled
        includeInternal
        secretHint
        consecutiveFailures
        disabledAt
        disabledReason
        createdAt
        createdBy {
          name
        }
      }
    }
  }
`;

export const CreateWebhookEndpointMutation = gql`
  mutation CreateWebhookEndpoint(
    $url: String!
    $description: String
    $eventTypes: [String!]
    $includeInternal: Boolean
  ) {
    createWebhookEndpoint(
      input: { url: $url, description: $description, eventTypes: $eventTypes, includeInternal: $includeInternal }
    ) {
      secret
      webhookEndpoint {
        rowId
      }
    }
  }
`;

export const RotateWebhookSecretMutation = gql`
  mutation RotateWebhookEndpointSecret($webhookEndpointId: UUID!) {
    rotateWebhookEndpointSecret(input: { webhookEndpointId: $webhookEndpointId }) {
      secret
      webhookEndpoint {
        rowId
        secretHint
      }
    }
  }
`;

export const UpdateWebhookEndpointMutation = gql`
  mutation UpdateWebhookEndpoint($rowId: UUID!, $patch: WebhookEndpointPatch!) {
    updateWebhookEndpoint(input: { rowId: $rowId, patch: $patch }) {
      webhookEndpoint {
        rowId
        enabled
        disabledAt
        disabledReason
        consecutiveFailures
      }
    }
  }
`;

export const DeleteWebhookEndpointMutation = gql`
  mutation DeleteWebhookEndpoint($rowId: UUID!) {
    deleteWebhookEndpoint(input: { rowId: $rowId }) {
      webhookEndpoint {
        rowId
      }
    }
  }
`;

export const SendTestWebhookMutation = gql`
  mutation SendTestWebhook($webhookEndpointId: UUID!) {
    sendTestWebhook(input: { webhookEndpointId: $webhookEndpointId }) {
      webhookDelivery {
        rowId
        status
      }
    }
  }
`;

export type ChatKind = "slack" | "discord" | "teams";
export const CHAT_KINDS: { value: ChatKind; label: string }[] = [
  { value: "slack", label: "Slack" },
  { value: "discord", label: "Discord" },
  { value: "teams", label: "Microsoft Teams" },
];

export interface ChatIntegrationRow {
  rowId: string;
  kind: ChatKind;
  name: string;
  urlHint: string;
  eventTypes: string[];
  enabled: boolean;
  includeInternal: boolean;
  consecutiveFailures: number;
  disabledReason: DisabledReason;
  createdAt: string;
}

export const ChatIntegrationsQuery = gql`
  query ChatIntegrations {
    chatIntegrations(orderBy: [CREATED_AT_DESC]) {
      nodes {
        rowId
        kind
        name
        urlHint
        eventTypes
        enabled
        includeInternal
        consecutiveFailures
        disabledReason
        createdAt
      }
    }
  }
`;

export const CreateChatIntegrationMutation = gql`
  mutation CreateChatIntegration(
    $kind: ChatKind!
    $name: String!
    $url: String!
    $eventTypes: [String!]
    $includeInternal: Boolean
  ) {
    createChatIntegration(
      input: { kind: $kind, name: $name, url: $url, eventTypes: $eventTypes, includeInternal: $includeInternal }
    ) {
      chatIntegration {
        rowId
      }
    }
  }
`;

export const UpdateChatIntegrationMutation = gql`
  mutation UpdateChatIntegration($rowId: UUID!, $patch: ChatIntegrationPatch!) {
    updateChatIntegration(input: { rowId: $rowId, patch: $patch }) {
      chatIntegration {
        rowId
        enabled
        disabledReason
        consecutiveFailures
      }
    }
  }
`;

export const DeleteChatIntegrationMutation = gql`
  mutation DeleteChatIntegration($rowId: UUID!) {
    deleteChatIntegration(input: { rowId: $rowId }) {
      chatIntegration {
        rowId
      }
    }
  }
`;

export const SendTestChatMessageMutation = gql`
  mutation SendTestChatMessage($chatIntegrationId: UUID!) {
    sendTestChatMessage(input: { chatIntegrationId: $chatIntegrationId }) {
      webhookDelivery {
        rowId
        status
      }
    }
  }
`;

export type DeliveryStatus = "pending" | "succeeded" | "failed" | "canceled";

/** One attempt at one message, to a webhook endpoint or a chat integration. */
export interface DeliveryRow {
  rowId: string;
  eventType: string;
  /** event, test or redelivery */
  origin: string;
  messageId: string;
  attempt: number;
  status: DeliveryStatus;
  scheduledAt: string;
  finishedAt: string | null;
  responseStatus: number | null;
  durationMs: number | null;
  responseBody: string | null;
  error: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

/** Which log: an endpoint's or a chat integration's. */
export type DeliveryTarget = { webhookEndpointId: string } | { chatIntegrationId: string };

export const DeliveriesQuery = gql`
  query Deliveries($condition: WebhookDeliveryCondition!, $first: Int!, $offset: Int!) {
    webhookDeliveries(condition: $condition, orderBy: [CREATED_AT_DESC], first: $first, offset: $offset) {
      totalCount
      nodes {
        rowId
        eventType
        origin
        messageId
        attempt
        status
        scheduledAt
        finishedAt
        responseStatus
        durationMs
        responseBody
        error
        nextAttemptAt
        createdAt
      }
    }
  }
`;

export const RedeliverMutation = gql`
  mutation RedeliverWebhook($deliveryId: UUID!) {
    redeliverWebhook(input: { deliveryId: $deliveryId }) {
      webhookDelivery {
        rowId
        status
      }
    }
  }
`;

export type AlertSourceFormat = "generic" | "alertmanager" | "grafana";
export const ALERT_SOURCE_FORMATS: { value: AlertSourceFormat; label: string }[] = [
  { value: "generic", label: "Generic JSON" },
  { value: "alertmanager", label: "Prometheus Alertmanager" },
  { value: "grafana", label: "Grafana" },
];

export interface AlertSourceRow {
  rowId: string;
  name: string;
  format: AlertSourceFormat;
  defaultServiceId: string | null;
  defaultService: { name: string } | null;
  defaultSeverity: Severity;
  visibility: "public" | "internal";
  enabled: boolean;
  secretHint: string | null;
  hookPath: string | null;
  lastReceivedAt: string | null;
  createdAt: string;
}

export const AlertSourcesQuery = gql`
  query AlertSources {
    alertSources(orderBy: [NAME_ASC]) {
      nodes {
        rowId
        name
        format
        defaultServiceId
        defaultService {
          name
        }
        defaultSeverity
        visibility
        enabled
        secretHint
        hookPath
        lastReceivedAt
        createdAt
      }
    }
  }
`;

export const CreateAlertSourceMutation = gql`
  mutation CreateAlertSource(
    $name: String!
    $format: AlertSourceFormat
    $defaultServiceId: UUID
    $defaultSeverity: IncidentSeverity
    $visibility: IncidentVisibility
  ) {
    createAlertSource(
      input: {
        name: $name
        format: $format
        defaultServiceId: $defaultServiceId
        defaultSeverity: $defaultSeverity
        visibility: $visibility
      }
    ) {
      secret
      hookPath
      alertSource {
        rowId
      }
    }
  }
`;

export const RotateAlertSourceSecretMutation = gql`
  mutation RotateAlertSourceSecret($id: UUID!) {
    rotateAlertSourceSecret(input: { id: $id }) {
      secret
      alertSource {
        rowId
        secretHint
      }
    }
  }
`;

export const UpdateAlertSourceMutation = gql`
  mutation UpdateAlertSource($rowId: UUID!, $patch: AlertSourcePatch!) {
    updateAlertSource(input: { rowId: $rowId, patch: $patch }) {
      alertSource {
        rowId
        enabled
      }
    }
  }
`;

export const DeleteAlertSourceMutation = gql`
  mutation DeleteAlertSource($rowId: UUID!) {
    deleteAlertSource(input: { rowId: $rowId }) {
      alertSource {
        rowId
      }
    }
  }
`;

export interface AlertRequestRow {
  rowId: string;
  receivedAt: string;
  accepted: boolean;
  /** ACCEPTED, REPLAYED or the error code the sender was answered. */
  code: string;
  httpStatus: number;
  alertCount: number;
  authenticatedBy: string | null;
  remoteAddress: string | null;
  bodyExcerpt: string | null;
}

export const AlertRequestsQuery = gql`
  query AlertRequests($alertSourceId: UUID!, $first: Int!, $offset: Int!) {
    alertRequests(
      condition: { alertSourceId: $alertSourceId }
      orderBy: [RECEIVED_AT_DESC]
      first: $first
      offset: $offset
    ) {
      totalCount
      nodes {
        rowId
        receivedAt
        accepted
        code
        httpStatus
        alertCount
        authenticatedBy
        remoteAddress
        bodyExcerpt
      }
    }
  }
`;
