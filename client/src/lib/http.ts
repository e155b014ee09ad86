/**
 * The few calls that are not GraphQL (uploads, public status files, subscriptions): same
 * cookie session and CSRF header as the GraphQL client, errors as CodedErrors.
 */
import { fromRestBody, NETWORK_ERROR, type CodedError } from "./errors.ts";

export function csrfToken(): string {
  const match = /(?:^|;\s*)ip_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]!) : "";
}

export type HttpResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; errors: CodedError[] };

export async function request<T>(url: string, init: RequestInit = {}): Promise<HttpResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      credentials: "same-origin",
      ...init,
      headers: { accept: "application/json", "x-csrf-token": csrfToken(), ...init.headers },
    });
  } catch {
    return {
      ok: false,
      status: 0,
      errors: [{ code: NETWORK_ERROR, message: "The server could not be reached.", extensions: {} }],
    };
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) return { ok: false, status: response.status, errors: fromRestBody(response.status, body) };
  return { ok: true, status: response.status, data: body as T };
}

export function postJson<T>(url: string, payload: unknown): Promise<HttpResult<T>> {
  return request<T>(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
}

/** The file name a Content-Disposition header gives, if any. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? "");
  return match ? decodeURIComponent(match[1]!) : fallback;
}

/**
 * Downloads a file the server makes for the session (e.g. an export) through fetch rather than
 * a plain link, so a refusal shows as a coded error on the page instead of a file of JSON.
 */
export async function downloadFile(url: string, fallbackName: string): Promise<CodedError[] | null> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { "x-csrf-token": csrfToken() } });
  } catch {
    return [{ code: NETWORK_ERROR, message: "The server could not be reached.", extensions: {} }];
  }
  if (!response.ok) return fromRestBody(response.status, await response.json().catch(() => null));
  const objectUrl = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = objectUrl;
  link.download = fileNameOf(response.headers.get("content-disposition"), fallbackName);
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the file to the browser; the blob can go once it has read it.
  setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
  return null;
}
