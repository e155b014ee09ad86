/**
 * Roles and what each may do, in one place. The database decides; this only keeps the UI
 * from offering what would be refused (the minimums mirror the row-level policies).
 */
export type Role = "viewer" | "editor" | "admin" | "owner";

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const PERMISSIONS = {
  manageIncidents: "editor",
  manageMaintenance: "editor",
  uploadAttachments: "editor",
  manageServices: "admin",
  manageMembers: "admin",
  readAuditLog: "admin",
  manageApiKeys: "admin",
  manageStatusPage: "admin",
  /** Webhooks, chat integrations and alert sources; their logs. */
  manageIntegrations: "admin",
  manageSubscribers: "admin",
  manageBilling: "owner",
  /** Exporting and deleting the organization. */
  manageOrganization: "owner",
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

export function roleAllows(role: Role | null | undefined, permission: Permission): boolean {
  return role != null && RANK[role] >= RANK[PERMISSIONS[permission]];
}

export const ROLES: Role[] = ["viewer", "editor", "admin", "owner"];
