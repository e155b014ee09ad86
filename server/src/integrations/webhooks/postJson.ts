/**
 * One outbound POST for webhooks and chat messages, made the same careful way for both: the
 * destination checked after DNS resolution and pinned (destinationGuard.ts), a deadline for the
 * whole exchange, redirects never followed (a 3xx is a failure: following one would reach a
 * URL nobody checked), and only the start of the answer kept for the delivery log.
 */
import http from "node:http";
import https from "node:https";
import { checkDestination, DestinationRefused, pinnedLookup, type AllowList } from "./destinationGuard.ts";

export const USER_AGENT = "IncidentPulse-Webhooks/1";
export const RESPONSE_BODY_LIMIT = 4096;

export interface PostOptions {
  allowList: AllowList;
  timeoutMs: number;
}

export interface DeliveryOutcome {
  succeeded: boolean;
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

export async function postJson(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<DeliveryOutcome> {
  const startedAt = new Date();
  const started = performance.now();
  const finish = (outcome: Omit<DeliveryOutcome, "startedAt" | "durationMs">): DeliveryOutcome => ({
    ...outcome,
    startedAt,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const destination = await checkDestination(target, options.allowList);
    const { status, text } = await send(destination.url, body, headers, {
      lookup: pinnedLookup(destination),
      timeoutMs: options.timeoutMs,
    });
    const succeeded = status >= 200 && status < 300;
    const error = succeeded
      ? null
      : status >= 300 && status < 400
        ? `The receiver answered a redirect (HTTP ${status}); redirects are not followed.`
        : `The receiver answered HTTP ${status}.`;
    return finish({ succeeded, responseStatus: status, responseBody: text, error });
  } catch (error) {
    return finish({
      succeeded: false,
      responseStatus: null,
      responseBody: null,
      error: describeFailure(error, options),
    });
  }
}

function send(
  url: URL,
  body: string,
  headers: Record<string, string>,
  { lookup, timeoutMs }: { lookup: ReturnType<typeof pinnedLookup>; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": USER_AGENT,
          "content-length": String(Buffer.byteLength(body)),
          ...headers,
        },
        lookup,
        // A fresh connection per delivery: no pooled socket outlives the check it passed.
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on("data", (chunk: Buffer) => {
          if (kept < RESPONSE_BODY_LIMIT) {
            chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - kept));
            kept += Math.min(chunk.length, RESPONSE_BODY_LIMIT - kept);
          }
          // Enough for the log: stop reading a large or endless answer.
          if (kept >= RESPONSE_BODY_LIMIT) response.destroy();
        });
        const done = () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
        response.on("end", done);
        response.on("close", done);
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

function describeFailure(error: unknown, { timeoutMs }: PostOptions): string {
  if (error instanceof DestinationRefused) return `Destination refused: ${error.message}`;
  const failure = error as NodeJS.ErrnoException;
  if (failure.name === "AbortError" || failure.name === "TimeoutError") {
    return `No answer within ${timeoutMs} ms.`;
  }
  return `Could not deliver: ${failure.code ?? failure.message}.`;
}
