/**
 * Checks the browser can make before sending, mirroring the server's rules so people learn
 * of a problem next to the field. The server checks again and stays the authority.
 */

export function passwordProblem(password: string): string | null {
  if (password.length < 8) return "Use at least 8 characters.";
  if (new TextEncoder().encode(password).length > 72) return "Use at most 72 bytes.";
  return null;
}

export function emailProblem(email: string): string | null {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? null : "Enter an email address like name@example.com.";
}

/** An http(s) address, as the server accepts for webhooks, chat and the support link. */
export function urlProblem(url: string): string | null {
  try {
    const { protocol } = new URL(url.trim());
    if (protocol === "http:" || protocol === "https:") return null;
  } catch {
    // Not a URL at all: the same advice.
  }
  return "Enter an address starting with https:// (or http://).";
}

export function requiredProblem(value: string, what: string): string | null {
  return value.trim() ? null : `Enter ${what}.`;
}

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export function slugProblem(slug: string): string | null {
  return SLUG.test(slug) ? null : "Use 1–48 lowercase letters, digits and dashes, not starting or ending with a dash.";
}

/** A slug suggested from a name: "Acme Cloud!" → "acme-cloud". */
export function slugFrom(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
}

/** The first problem of each field, or an empty object when all is well. */
export function problemsOf<K extends string>(checks: Record<K, string | null>): Partial<Record<K, string>> {
  const problems: Partial<Record<K, string>> = {};
  for (const [key, problem] of Object.entries(checks) as [K, string | null][]) if (problem) problems[key] = problem;
  return problems;
}
