import { gql } from "urql";

export interface MaintenanceRow {
  rowId: string;
  title: string;
  body: string;
  status: "scheduled" | "in_progress" | "completed" | "canceled";
  startsAt: string;
  endsAt: string;
  maintenanceServices: { nodes: { serviceId: string; service: { name: string } | null }[] };
}

export const MaintenanceQuery = gql`
  query MaintenanceWindows {
    maintenanceWindows(orderBy: [STARTS_AT_DESC], first: 100) {
      nodes {
        rowId
        title
        body
        status
        startsAt
        endsAt
        maintenanceServices {
          nodes {
            serviceId
            service {
              name
            }
          }
        }
      }
    }
  }
`;

export const CreateMaintenanceMutation = gql`
  mutation CreateMaintenanceWindow($window: MaintenanceWindowInput!) {
    createMaintenanceWindow(input: { maintenanceWindow: $window }) {
      maintenanceWindow {
        rowId
      }
    }
  }
`;

export const UpdateMaintenanceMutation = gql`
  mutation UpdateMaintenanceWindow($rowId: UUID!, $patch: MaintenanceWindowPatch!) {
    updateMaintenanceWindow(input: { rowId: $rowId, patch: $patch }) {
      maintenanceWindow {
        rowId
        title
        body
        startsAt
        endsAt
      }
    }
  }
`;

export const AddMaintenanceServiceMutation = gql`
  mutation AddMaintenanceService($maintenanceWindowId: UUID!, $serviceId: UUID!) {
    createMaintenanceService(
      input: { maintenanceService: { maintenanceWindowId: $maintenanceWindowId, serviceId: $serviceId } }
    ) {
      maintenanceService {
        serviceId
      }
    }
  }
`;

export const RemoveMaintenanceServiceMutation = gql`
  mutation RemoveMaintenanceService($maintenanceWindowId: UUID!, $serviceId: UUID!) {
    deleteMaintenanceService(input: { maintenanceWindowId: $maintenanceWindowId, serviceId: $serviceId }) {
      maintenanceService {
        serviceId
      }
    }
  }
`;

export const CancelMaintenanceMutation = gql`
  mutation CancelMaintenance($maintenanceWindowId: UUID!) {
    cancelMaintenance(input: { maintenanceWindowId: $maintenanceWindowId }) {
      maintenanceWindow {
        rowId
        status
      }
    }
  }
`;
