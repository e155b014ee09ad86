/**
 * The real GraphQL client (and fetch-based helpers) over a fake network: each request is kept
 * and answered by the test's function, so components run exactly as in the browser.
 */
import { vi } from "vitest";
import { createClient } from "../graphql.ts";

export interface SentRequest {
  url: string;
  method: string;
  /** The parsed JSON body ({} without one); GraphQL sends {query, variables}. */
  body: { query?: string; variables?: Record<string, unknown>; [field: string]: unknown };
}

export interface FakeAnswer {
  status?: number;
  body: unknown;
}

/** The operation a GraphQL request runs: the name after `query` or `mutation`. */
export const operationOf = (request: SentRequest): string =>
  /(?:query|mutation)\s+(\w+)/.exec(request.body.query ?? "")?.[1] ?? "";

export function fakeServer(answer: (request: SentRequest) => FakeAnswer) {
  const sent: SentRequest[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string | URL, init: RequestInit = {}) => {
      const request: SentRequest = {
        url: String(input),
        method: init.method ?? "GET",
        body: typeof init.body === "string" ? (JSON.parse(init.body) as SentRequest["body"]) : {},
      };
      sent.push(request);
      const { status = 200, body } = answer(request);
      return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    }),
  );
  return { client: createClient(), sent };
}

/** Answers GraphQL operations by name with `{data}`, or a function of the variables. */
export function graphQLAnswers(
  byOperation: Record<string, unknown | ((variables: Record<string, unknown>) => unknown)>,
): (request: SentRequest) => FakeAnswer {
  return (request) => {
    const answer = byOperation[operationOf(request)];
    if (answer === undefined) return { body: { errors: [{ message: `No fake for ${operationOf(request)}` }] } };
    const data = typeof answer === "function" ? answer(request.body.variables ?? {}) : answer;
    return { body: { data } };
  };
}
