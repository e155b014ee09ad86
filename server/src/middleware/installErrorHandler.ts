/**
 * The last resort: anything that reached here without an answer. Client mistakes the HTTP
 * layer detects (malformed JSON, oversized bodies) keep their 4xx; a database that cannot be
 * reached is a coded 503; the rest is logged with an id and masked.
 */
import { randomUUID } from "node:crypto";
import type { Express, NextFunction, Request, Response } from "express";
import { errorBody, restAnswerForDatabaseError } from "../errors.ts";

export function installErrorHandler(app: Express): void {
  app.use((req: Request, res: Response) => {
    res.status(404).json(errorBody("NOT_FOUND", `Nothing at ${req.method} ${req.path}.`));
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status =
      (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    if (res.headersSent) return;
    if (status && status >= 400 && status < 500) {
      res
        .status(status)
        .json(errorBody(status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST", "The request could not be read."));
      return;
    }
    // The database away (stopped, restarting): a coded 503 the client may retry, not a 500.
    const answer = restAnswerForDatabaseError(error);
    if (answer && answer.status === 503) {
      res.status(503).set("Retry-After", "5").json(answer.body);
      return;
    }
    const errorId = randomUUID();
    // req.log carries the request id; the client gets only the error id to quote.
    req.log.error({ err: error, errorId }, "unexpected error");
    res
      .status(500)
      .json(errorBody("INTERNAL_SERVER_ERROR", `An unexpected error occurred (id ${errorId}).`, { errorId }));
  });
}
