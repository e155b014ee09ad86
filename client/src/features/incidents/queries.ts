import { gql } from "urql";

export const INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved"] as const;
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export const SERVICE_STATUSES = [
  "operational",
  "degraded_performance",
  "partial_outage",
  "major_outage",
  "under_maintenance",
] as const;

export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export type Severity = (typeof SEVERITIES)[number];
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export interface IncidentSummary {
  rowId: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  impact: string;
  visibility: "public" | "internal";
  startedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
}

export const SearchIncidentsQuery = gql`
  query SearchIncidents(
    $query: String
    $statuses: [IncidentStatus]
    $severities: [IncidentSeverity]
    $first: Int!
    $offset: Int!
  ) {
    searchIncidents(query: $query, statuses: $statuses, severities: $severities, first: $first, offset: $offset) {
      totalCount
      nodes {
        rowId
        title
        severity
        status
        impact
        visibility
        startedAt
        acknowledgedAt
        resolvedAt
      }
    }
  }
`;

export interface ServiceOption {
  rowId: string;
  name: string;
  status: ServiceStatus;
}

export const ServiceOptionsQuery = gql`
  query ServiceOptions {
    services(orderBy: [POSITION_ASC, NAME_ASC]) {
      nodes {
        rowId
        name
        status
      }
    }
  }
`;

export interface TimelineEntry {
  rowId: string;
  status: IncidentStatus;
  previousStatus: IncidentStatus | null;
  body: string;
  isPublic: boolean;
  displayAt: string;
  authorUser: { name: string } | null;
  authorApiKey: { name: string } | null;
  incidentUpdateServiceChanges: {
    nodes: {
      serviceId: string;
      oldStatus: ServiceStatus;
      newStatus: ServiceStatus;
      service: { name: string } | null;
    }[];
  };
}

export interface IncidentAttachment {
  rowId: string;
  filename: string;
  contentType: string;
  sizeBytes: number | null;
  createdAt: string;
  uploadedBy: { name: string } | null;
}

export interface IncidentDetail extends IncidentSummary {
  description: string | null;
  rootCause: string | null;
  resolutionSummary: string | null;
  postmortem: string | null;
  postmortemPublishedAt: string | null;
  reopenedCount: number;
  createdBy: { name: string } | null;
  incidentServices: { nodes: { serviceId: string; status: ServiceStatus; service: { name: string } | null }[] };
  incidentUpdates: { nodes: TimelineEntry[] };
  incidentAttachments: { nodes: IncidentAttachment[] };
}

export const IncidentQuery = gql`
  query Incident($id: UUID!) {
    incident(rowId: $id) {
      rowId
      title
      description
      severity
      status
      impact
      visibility
      startedAt
      acknowledgedAt
      resolvedAt
      reopenedCount
      rootCause
      resolutionSummary
      postmortem
      postmortemPublishedAt
      createdBy {
        name
      }
      incidentServices {
        nodes {
          serviceId
          status
          service {
            name
          }
        }
      }
      incidentUpdates(orderBy: [DISPLAY_AT_DESC]) {
        nodes {
          rowId
          status
          previousStatus
          body
          isPublic
          displayAt
          authorUser {
            name
          }
          authorApiKey {
            name
          }
          incidentUpdateServiceChanges {
            nodes {
              serviceId
              oldStatus
              newStatus
              service {
                name
              }
            }
          }
        }
      }
      incidentAttachments(orderBy: [PRIMARY_KEY_ASC]) {
        nodes {
          rowId
          filename
          contentType
          sizeBytes
          createdAt
          uploadedBy {
            name
          }
        }
      }
    }
  }
`;

export const CreateIncidentMutation = gql`
  mutation CreateIncident($incident: IncidentInput!) {
    createIncident(input: { incident: $incident }) {
      incident {
        rowId
      }
    }
  }
`;

export const AddIncidentServiceMutation = gql`
  mutation AddIncidentService($incidentId: UUID!, $serviceId: UUID!, $status: ServiceStatus!) {
    createIncidentService(
      input: { incidentService: { incidentId: $incidentId, serviceId: $serviceId, status: $status } }
    ) {
      incidentService {
        serviceId
        status
      }
    }
  }
`;

export const PostUpdateMutation = gql`
  mutation PostIncidentUpdate(
    $incidentId: UUID!
    $status: IncidentStatus!
    $body: String!
    $isPublic: Boolean!
    $serviceStatuses: [ServiceStatusChangeInput]
  ) {
    postIncidentUpdate(
      input: {
        incidentId: $incidentId
        status: $status
        body: $body
        isPublic: $isPublic
        serviceStatuses: $serviceStatuses
      }
    ) {
      incidentUpdate {
        rowId
        incident {
          rowId
          status
        }
      }
    }
  }
`;

export const AcknowledgeMutation = gql`
  mutation AcknowledgeIncident($incidentId: UUID!) {
    acknowledgeIncident(input: { incidentId: $incidentId }) {
      incident {
        rowId
        acknowledgedAt
      }
    }
  }
`;

export const UpdateIncidentMutation = gql`
  mutation UpdateIncident($rowId: UUID!, $patch: IncidentPatch!) {
    updateIncident(input: { rowId: $rowId, patch: $patch }) {
      incident {
        rowId
        rootCause
        resolutionSummary
        postmortem
        postmortemPublishedAt
      }
    }
  }
`;
