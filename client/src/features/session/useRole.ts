import { roleAllows, type Permission, type Role } from "./roles.ts";
import { useSession } from "./SessionContext.tsx";

/** The signed-in member's role in the active organization, and what it allows. */
export function useRole(): { role: Role | null; can(permission: Permission): boolean } {
  const { role } = useSession();
  return { role, can: (permission) => roleAllows(role, permission) };
}
