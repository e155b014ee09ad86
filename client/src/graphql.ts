/**
 * The dashboard's GraphQL client: the session lives in an httpOnly cookie; writes echo the
 * CSRF token from the readable ip_csrf cookie.
 */
import { Client, cacheExchange, fetchExchange } from "urql";

export function csrfToken(): string {
  const match = /(?:^|;\s*)ip_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]!) : "";
}

export const client = new Client({
  url: "/graphql",
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: () => ({ credentials: "same-origin", headers: { "x-csrf-token": csrfToken() } }),
});
