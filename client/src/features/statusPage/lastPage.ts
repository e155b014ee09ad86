/** The status page last opened in this browser, so /status alone brings it back. */
const KEY = "incidentpulse.lastStatusPage";

export function rememberStatusPage(slug: string): void {
  try {
    localStorage.setItem(KEY, slug);
  } catch {
    // Storage may be disabled (private mode, policies); remembering is only a convenience.
  }
}

export function lastStatusPage(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
