import { gql } from "urql";
import type { ServiceStatus } from "../incidents/queries.ts";

export interface ServiceGroupRow {
  rowId: string;
  name: string;
  position: number;
  collapsed: boolean;
}

export interface ServiceRow {
  rowId: string;
  name: string;
  description: string | null;
  position: number;
  groupId: string | null;
  hidden: boolean;
  status: ServiceStatus;
  statusChangedAt: string;
}

export const ServicesQuery = gql`
  query Services {
    serviceGroups(orderBy: [POSITION_ASC, NAME_ASC]) {
      nodes {
        rowId
        name
        position
        collapsed
      }
    }
    services(orderBy: [POSITION_ASC, NAME_ASC]) {
      nodes {
        rowId
        name
        description
        position
        groupId
        hidden
        status
        statusChangedAt
      }
    }
  }
`;

export const CreateServiceMutation = gql`
  mutation CreateService($service: ServiceInput!) {
    createService(input: { service: $service }) {
      service {
        rowId
      }
    }
  }
`;

export const UpdateServiceMutation = gql`
  mutation UpdateService($rowId: UUID!, $patch: ServicePatch!) {
    updateService(input: { rowId: $rowId, patch: $patch }) {
      service {
        rowId
        name
        position
        groupId
        hidden
        status
      }
    }
  }
`;

export const DeleteServiceMutation = gql`
  mutation DeleteService($rowId: UUID!) {
    deleteService(input: { rowId: $rowId }) {
      service {
        rowId
      }
    }
  }
`;

export const CreateGroupMutation = gql`
  mutation CreateServiceGroup($name: String!, $position: Int) {
    createServiceGroup(input: { serviceGroup: { name: $name, position: $position } }) {
      serviceGroup {
        rowId
      }
    }
  }
`;

export const UpdateGroupMutation = gql`
  mutation UpdateServiceGroup($rowId: UUID!, $patch: ServiceGroupPatch!) {
    updateServiceGroup(input: { rowId: $rowId, patch: $patch }) {
      serviceGroup {
        rowId
        name
        position
        collapsed
      }
    }
  }
`;

export const DeleteGroupMutation = gql`
  mutation DeleteServiceGroup($rowId: UUID!) {
    deleteServiceGroup(input: { rowId: $rowId }) {
      serviceGroup {
        rowId
      }
    }
  }
`;
