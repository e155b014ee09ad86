/**
 * A dashboard section with pages of its own (integrations, settings): a second row of
 * navigation listing the pages the role may use, and the page. The section's own address
 * leads to the first of them.
 */
import { Navigate, NavLink, Outlet } from "react-router";
import type { Permission } from "../session/roles.ts";
import { useRole } from "../session/useRole.ts";

export interface SectionPage {
  to: string;
  label: string;
  /** Without one, every member sees the page (it shows what their role may do). */
  permission?: Permission;
}

function useVisiblePages(pages: SectionPage[]): SectionPage[] {
  const { can } = useRole();
  return pages.filter((page) => !page.permission || can(page.permission));
}

export function SectionLayout({ label, pages }: { label: string; pages: SectionPage[] }) {
  const visible = useVisiblePages(pages);
  return (
    <>
      <nav className="section-nav" aria-label={label}>
        <ul>
          {visible.map((page) => (
            <li key={page.to}>
              <NavLink to={page.to}>{page.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}

export function SectionIndex({ pages }: { pages: SectionPage[] }) {
  const [first] = useVisiblePages(pages);
  return first ? <Navigate to={first.to} replace /> : null;
}
