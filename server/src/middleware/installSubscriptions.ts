/**
 * Status-page subscriptions over HTTP (DESIGN.md §11), for the anonymous public:
 *
 * - `POST /status/:slug/api/subscriptions` (JSON or form: `email`, `serviceIds`): signs up,
 *   202 with the same answer whatever the address's state; rate limited per client address
 *   and per email address (429 RATE_LIMITED with Retry-After).
 * - `GET /status/:slug/subscriptions/confirm?token=…`: a page with a button, whose POST confirms.
 * - `GET /status/:slug/subscriptions/unsubscribe?token=…`: the same for unsubscribing; the POST
 *   is also the RFC 8058 one-click target of every message's `List-Unsubscribe` header.
 *
 * In single-tenant mode the same paths also answer at the root, like the status pages. The
 * database decides everything (which pages take subscribers, what a token means); this layer
 * validates input, throttles, and answers in JSON or HTML.
 */
import express, { type Express, type NextFunction, type Request, type Response, type Router } from "express";
import { z } from "zod";
import { withRequestTransaction } from "../database/requestTransaction.ts";
import { errorBody, restAnswerForDatabaseError } from "../errors.ts";
import type { Services } from "../services.ts";
import { actionPage, messagePage } from "../subscribers/pages.ts";
import { SignUpThrottle } from "../subscribers/signUpThrottle.ts";

const DEFAULT_SLUG = "default";
const MAX_SERVICES = 100;
const TOKEN = /^ips[cu]_[A-Za-z0-9_-]{20,100}$/;

const signUpSchema = z.object({
  email: z.string().trim().max(254).pipe(z.email()),
  serviceIds: z.preprocess(
    // A form sends one value as a string and several as an array.
    (value) => (value === undefined || value === "" ? [] : Array.isArray(value) ? value : [value]),
    z.array(z.uuid()).max(MAX_SERVICES),
  ),
});

const SIGNED_UP = {
  status: "pending_confirmation",
  message: "If this address can receive notifications, a confirmation email is on its way.",
};

const readForm = express.urlencoded({ extended: false, limit: "4kb" });
const readJson = express.json({ limit: "16kb" });

const slugOf = (req: Request) => (typeof req.params.slug === "string" ? req.params.slug : DEFAULT_SLUG);
/** JSON for API clients (and `*\/*`), HTML for browsers submitting forms or following links. */
const wantsHtml = (req: Request) => req.accepts(["json", "html"]) === "html";

function tokenOf(req: Request): string | null {
  const body = req.body as Record<string, unknown> | undefined;
  const token = typeof req.query.token === "string" ? req.query.token : body?.token;
  return typeof token === "string" && TOKEN.test(token) ? token : null;
}

interface Reply {
  status: number;
  title: string;
  message: string;
  json: object;
  pageUrl?: string;
}

function reply(req: Request, res: Response, { status, title, message, json, pageUrl }: Reply): void {
  res.status(status).set("Cache-Control", "no-store");
  if (wantsHtml(req)) res.type("html").send(messagePage(title, message, pageUrl));
  else res.json(json);
}

const FAILED = "That did not work";

function failure(status: number, code: string, message: string, extra: object = {}): Reply {
  return { status, title: FAILED, message, json: errorBody(code, message, extra) };
}

const INVALID_LINK = failure(404, "SUBSCRIPTION_LINK_INVALID", "This subscription link is not valid (any more).");

/** A database error the visitor caused, in JSON or as a page; anything else is unexpected. */
function replyWithError(req: Request, res: Response, next: NextFunction, error: unknown): void {
  const known = restAnswerForDatabaseError(error);
  if (!known) return next(error);
  reply(req, res, { status: known.status, title: FAILED, message: known.body.errors[0]!.message, json: known.body });
}

interface LinkAction {
  path: string;
  /** The SQL function that takes the token. */
  functionName: "app_hidden.confirm_subscription" | "app_hidden.unsubscribe";
  page: { title: string; explanation: string; button: string };
  done: { title: string; message: (organizationName: string) => string; status: string };
}

const LINK_ACTIONS: LinkAction[] = [
  {
    path: "/subscriptions/confirm",
    functionName: "app_hidden.confirm_subscription",
    page: {
      title: "Confirm your subscription",
      explanation: "Confirm that you want to receive incident and maintenance notifications by email.",
      button: "Confirm subscription",
    },
    done: {
      title: "Subscription confirmed",
      message: (name) => `You will receive ${name} status notifications. Every email has a link to unsubscribe.`,
      status: "confirmed",
    },
  },
  {
    path: "/subscriptions/unsubscribe",
    functionName: "app_hidden.unsubscribe",
    page: {
      title: "Unsubscribe",
      explanation: "Stop receiving status notifications at this address.",
      button: "Unsubscribe",
    },
    done: {
      title: "Unsubscribed",
      message: (name) => `You will not receive ${name} status notifications any more.`,
      status: "unsubscribed",
    },
  },
];

function subscriptionRouter(services: Services, throttle: SignUpThrottle): Router {
  const router = express.Router({ mergeParams: true });

  router.post("/api/subscriptions", readJson, readForm, async (req, res, next) => {
    const parsed = signUpSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const badEmail = parsed.error.issues.some((issue) => issue.path[0] === "email");
      return reply(
        req,
        res,
        badEmail
          ? failure(422, "INVALID_EMAIL", "Enter a valid email address.")
          : failure(422, "VALIDATION_FAILED", `Choose services by their ids (at most ${MAX_SERVICES}).`),
      );
    }
    const { email, serviceIds } = parsed.data;
    try {
      const retryAfterSeconds = await throttle.consume(req.ip ?? req.socket.remoteAddress ?? "unknown", email);
      if (retryAfterSeconds !== null) {
        res.set("Retry-After", String(retryAfterSeconds));
        return reply(
          req,
          res,
          failure(429, "RATE_LIMITED", "Too many sign-ups. Try again later.", { retryAfterSeconds }),
        );
      }
      await withRequestTransaction(services, null, (client) =>
        client.query("select app_hidden.subscribe($1, $2, $3::uuid[])", [slugOf(req), email, serviceIds]),
      );
    } catch (error) {
      return replyWithError(req, res, next, error);
    }
    reply(req, res, { status: 202, title: "Check your inbox", message: SIGNED_UP.message, json: SIGNED_UP });
  });

  for (const action of LINK_ACTIONS) {
    router.get(action.path, (req, res) => {
      const token = tokenOf(req);
      res.set("Cache-Control", "no-store");
      if (!token) return void res.status(404).type("html").send(messagePage(INVALID_LINK.title, INVALID_LINK.message));
      res.type("html").send(actionPage(action.page.title, action.page.explanation, action.page.button, token));
    });
    router.post(action.path, readForm, async (req, res, next) => {
      const token = tokenOf(req);
      if (!token) return reply(req, res, INVALID_LINK);
      try {
        const { rows } = await withRequestTransaction(services, null, (client) =>
          client.query<{ organization_name: string; organization_slug: string }>(
            `select * from ${action.functionName}($1)`,
            [token],
          ),
        );
        const page = rows[0]!;
        const message = action.done.message(page.organization_name);
        reply(req, res, {
          status: 200,
          title: action.done.title,
          message,
          json: { status: action.done.status, message },
          pageUrl: `/status/${encodeURIComponent(page.organization_slug)}`,
        });
      } catch (error) {
        replyWithError(req, res, next, error);
      }
    });
  }
  return router;
}

export function installSubscriptions(app: Express, services: Services): void {
  const throttle = new SignUpThrottle(services.ownerPool, {
    perAddressPerHour: services.config.SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR,
    perEmailPerHour: services.config.SUBSCRIPTIONS_PER_EMAIL_PER_HOUR,
  });
  const router = subscriptionRouter(services, throttle);
  app.use("/status/:slug", router);
  if (!services.config.MULTI_TENANT_ENABLED) app.use(router);
}
