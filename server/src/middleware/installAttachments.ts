/**
 * Incident attachments over HTTP. Uploads and downloads run as the caller (same policies as
 * GraphQL: members read, editors upload); downloads are always `attachment` with nosniff and
 * a sandboxing CSP, so nothing uploaded is ever rendered by the browser as a page.
 */
import type { Express, NextFunction, Request, Response } from "express";
import multer from "multer";
import { allowedContentType, MAX_ATTACHMENT_BYTES } from "../attachments/contentType.ts";
import { withRequestTransaction } from "../database/requestTransaction.ts";
import { errorBody, restAnswerForDatabaseError } from "../errors.ts";
import type { Services } from "../services.ts";
import { authenticationMiddleware } from "./installAuthentication.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MAX_ATTACHMENT_BYTES, files: 1, fields: 5, fieldSize: 1024 },
}).single("file");

function refuse(res: Response, status: number, code: string, message: string) {
  res.status(status).json(errorBody(code, message));
}

/** Database errors a user can cause keep their code and status; anything else goes on. */
function answerDatabaseError(error: unknown, res: Response, next: NextFunction) {
  const answer = restAnswerForDatabaseError(error);
  if (answer) return res.status(answer.status).json(answer.body);
  next(error);
}

function receiveFile(req: Request, res: Response, next: NextFunction) {
  upload(req, res, (error: unknown) => {
    if (!error) return next();
    if (error instanceof multer.MulterError) {
      if (error.code === "LIMIT_FILE_SIZE") {
        return refuse(res, 413, "ATTACHMENT_TOO_LARGE", "Attachments are at most 10 MB.");
      }
      return refuse(res, 400, "BAD_REQUEST", "Send one file in the multipart field 'file'.");
    }
    return refuse(res, 400, "BAD_REQUEST", "The upload could not be read.");
  });
}

export function installAttachments(app: Express, services: Services): void {
  const authenticate = authenticationMiddleware(services);
  const requireUser = (req: Request, res: Response, next: NextFunction) => {
    if (!req.identity) return refuse(res, 401, "UNAUTHENTICATED", "You must be signed in.");
    next();
  };

  app.post(
    "/api/incidents/:incidentId/attachments",
    authenticate,
    requireUser,
    receiveFile,
    async (req: Request, res: Response, next: NextFunction) => {
      const incidentId = String(req.params.incidentId);
      const file = req.file;
      if (!UUID.test(incidentId)) return refuse(res, 404, "NOT_FOUND", "No incident with this id.");
      if (!file) return refuse(res, 400, "BAD_REQUEST", "Send one file in the multipart field 'file'.");
      if (file.size === 0) return refuse(res, 422, "VALIDATION_FAILED", "The file is empty.");
      const filename = file.originalname
        .normalize("NFC")
        .replace(/[/\\\p{Cc}]/gu, "_")
        .slice(0, 255);
      const contentType = await allowedContentType(filename, file.mimetype, file.buffer);
      if (!contentType) {
        return refuse(
          res,
          415,
          "UNSUPPORTED_ATTACHMENT_TYPE",
          "Attach PNG, JPEG, GIF or WebP images, PDF, or plain text, CSV, JSON and log files.",
        );
      }
      try {
        const attachment = await withRequestTransaction(services, req.identity, async (client) => {
          const incident = await client.query("select 1 from app_public.incidents where id = $1", [incidentId]);
          if (incident.rowCount === 0) return null;
          const { rows } = await client.query(
            `insert into app_public.incident_attachments (incident_id, filename, content_type, content)
             values ($1, $2, $3, $4)
             returning id, incident_id as "incidentId", filename, content_type as "contentType",
                       size_bytes as "sizeBytes", created_at as "createdAt"`,
            [incidentId, filename, contentType, file.buffer],
          );
          return rows[0];
        });
        if (!attachment) return refuse(res, 404, "NOT_FOUND", "No incident with this id.");
        res.status(201).json({ attachment });
      } catch (error) {
        answerDatabaseError(error, res, next);
      }
    },
  );

  app.get("/api/attachments/:attachmentId", authenticate, requireUser, async (req, res, next) => {
    const attachmentId = String(req.params.attachmentId);
    if (!UUID.test(attachmentId)) return refuse(res, 404, "NOT_FOUND", "No attachment with this id.");
    try {
      const file = await withRequestTransaction(services, req.identity, async (client) => {
        const { rows } = await client.query<{ filename: string; content_type: string; content: Buffer }>(
          "select filename, content_type, content from app_public.incident_attachments where id = $1",
          [attachmentId],
        );
        return rows[0];
      });
      if (!file) return refuse(res, 404, "NOT_FOUND", "No attachment with this id.");
      res.set({
        "Content-Type": file.content_type,
        "Content-Length": String(file.content.length),
        "Content-Disposition": `attachment; filename="${file.filename.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
      });
      res.end(file.content);
    } catch (error) {
      answerDatabaseError(error, res, next);
    }
  });
}
