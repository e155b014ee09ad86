/**
 * The dashboard's GraphQL client: the session lives in an httpOnly cookie; writes echo the
 * CSRF token from the readable ip_csrf cookie. A new client (and so an empty cache) is made
 * whenever the session changes, so nothing of another user or organization is ever shown.
 */
import { Client, cacheExchange, fetchExchange } from "urql";
import { csrfToken } from "./lib/http.ts";

export function createClient(): Client {
  return new Client({
    url: "/graphql",
    exchanges: [cacheExchange, fetchExchange],
    // The API takes POST only (urql would send short queries as GET).
    preferGetMethod: false,
    // The CSRF cookie changes with each sign-in, so it is read per request.
    fetchOptions: () => ({ credentials: "same-origin", headers: { "x-csrf-token": csrfToken() } }),
  });
}
