import type { ReactNode } from "react";
import type { Permission } from "./roles.ts";
import { useRole } from "./useRole.ts";

/** Renders its children only for roles with the permission (otherwise the fallback, if any). */
export function Allowed({
  permission,
  children,
  fallback = null,
}: {
  permission: Permission;
  children: ReactNode;
  fallback?: ReactNode;
}) {
  const { can } = useRole();
  return <>{can(permission) ? children : fallback}</>;
}
