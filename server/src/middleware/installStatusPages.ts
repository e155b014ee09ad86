/**
 * The public read path of status pages (DESIGN.md §8), served from the StatusCache:
 *
 * - `/status/:slug/api/v2/*.json` (Statuspage v2), `history.rss`, `history.atom`, `badge.svg`;
 *   in single-tenant mode also at the root for the default organization (`/api/v2/summary.json`).
 * - `/status/:slug/events` and `/api/status/stream?orgSlug=…|orgId=…`: server-sent events, one
 *   per snapshot version, with heartbeats and a cap of concurrent streams per client address.
 *
 * Every answer is public and cacheable: `Access-Control-Allow-Origin: *` without credentials,
 * a strong ETag (304 on a match), a few seconds of max-age with stale-while-revalidate. An
 * unknown, unpublished or suspended page is a 404 that says nothing more.
 */
import express, { type Express, type Request, type Response, type Router } from "express";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import proxyAddress from "proxy-addr";
import { publicOrigin } from "../config.ts";
import { errorBody } from "../errors.ts";
import { renderBadge } from "../public/badge.ts";
import { renderAtom, renderRss } from "../public/feeds.ts";
import {
  STATUS_JSON_FILES,
  StatusCache,
  type CachedSnapshot,
  type SnapshotEvent,
  type StatusRepresentationName,
} from "../public/statusCache.ts";
import { EventStreamSet, startEventStream, writeToEventStream } from "../public/eventStreams.ts";
import type { Services } from "../services.ts";

const DEFAULT_SLUG = "default";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PUBLIC_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "ETag",
  // Badges are embedded by other sites (<img>): helmet's same-origin default would block them.
  "Cross-Origin-Resource-Policy": "cross-origin",
};
const CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30";
const EXTRA_HEADERS: Partial<Record<StatusRepresentationName, Record<string, string>>> = {
  "badge.svg": { "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'" },
};

type Resolve = (req: Request) => Promise<CachedSnapshot | null>;

/** The same few bytes for every page that is not public: nothing to tell them apart. */
const NOT_FOUND_BODY = Buffer.from(JSON.stringify(errorBody("NOT_FOUND", "No such status page.")));
const TOO_MANY_STREAMS_BODY = Buffer.from(
  JSON.stringify(errorBody("TOO_MANY_STREAMS", "Too many open status streams from this address.")),
);

function notFound(res: Response): void {
  // Written directly: res.json would add an ETag, and a 404 has nothing to revalidate.
  res.writeHead(404, {
    ...PUBLIC_HEADERS,
    "Cache-Control": "public, max-age=5",
    "Content-Type": "application/json; charset=utf-8",
  });
  res.end(NOT_FOUND_BODY);
}

/** If-None-Match uses the weak comparison: a list, `W/` prefixes and `*` all count. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || (tag.startsWith("W/") ? tag.slice(2) : tag) === etag;
  });
}

function preflight(_req: Request, res: Response): void {
  res
    .status(204)
    .set(PUBLIC_HEADERS)
    .set({
      "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
      "Access-Control-Allow-Headers": "If-None-Match, Last-Event-ID, Cache-Control",
      "Access-Control-Max-Age": "86400",
    })
    .end();
}

/** Serves one pre-serialised representation: no query, no serialisation. */
function serve(name: StatusRepresentationName, resolve: Resolve) {
  return async (req: Request, res: Response) => {
    const snapshot = await resolve(req);
    const representation = snapshot?.representations.get(name);
    if (!representation) return notFound(res);
    res.set(PUBLIC_HEADERS);
    res.setHeader("Cache-Control", CACHE_CONTROL);
    res.setHeader("ETag", representation.etag);
    if (matches(req.get("if-none-match"), representation.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader("Content-Type", representation.contentType);
    const extra = EXTRA_HEADERS[name];
    if (extra) res.set(extra);
    res.status(200).end(representation.body);
  };
}

/** One open status stream: its response, where it comes from, the newest version it has. */
interface StatusStream {
  res: ServerResponse;
  address: string;
  sentVersion: number;
  closed: boolean;
}

/**
 * Open SSE streams: counted per client address, ended on shutdown. The streams of one
 * organization share one subscription to the cache, and each new version goes to all of them
 * in one loop of socket writes (what a change costs at thousands of open pages).
 */
class StatusStreams {
  private readonly perAddress = new Map<string, number>();
  private readonly open: EventStreamSet;
  private readonly audiences = new Map<string, { streams: Set<StatusStream>; unsubscribe: () => void }>();

  constructor(
    private readonly cache: StatusCache,
    heartbeatMs: number,
    private readonly maxPerAddress: number,
  ) {
    this.open = new EventStreamSet(heartbeatMs);
  }

  /** The Express route, for pages that are not in memory yet (and HEAD). */
  handler(resolve: Resolve) {
    return async (req: Request, res: Response) => {
      const snapshot = await resolve(req);
      if (!snapshot) return notFound(res);
      this.start(req, res, snapshot, req.ip ?? req.socket.remoteAddress ?? "unknown");
    };
  }

  /** Starts the stream of a public page for a client at `address`. */
  start(req: IncomingMessage, res: ServerResponse, snapshot: CachedSnapshot, address: string): void {
    const count = this.perAddress.get(address) ?? 0;
    if (count >= this.maxPerAddress) {
      res.writeHead(429, { ...PUBLIC_HEADERS, "Retry-After": "30", "Content-Type": "application/json; charset=utf-8" });
      res.end(TOO_MANY_STREAMS_BODY);
      return;
    }
    const headers = {
      ...PUBLIC_HEADERS,
      "Cache-Control": "no-cache, no-transform",
      "X-Content-Type-Options": "nosniff",
    };
    if (req.method === "HEAD") {
      res.writeHead(200, { ...headers, "Content-Type": "text/event-stream; charset=utf-8" }).end();
      return;
    }
    startEventStream(res, headers);
    this.perAddress.set(address, count + 1);
    // EventSource sends the last id it saw: the current version goes out at once unless the
    // client has it (one it never saw from us, e.g. after a reset, is corrected too).
    const lastEventId = Number.parseInt(String(req.headers["last-event-id"] ?? ""), 10);
    const stream: StatusStream = {
      res,
      address,
      sentVersion: Number.isSafeInteger(lastEventId) ? lastEventId : -1,
      closed: false,
    };
    this.join(snapshot.organizationId, stream);
    res.on("close", () => this.leave(snapshot.organizationId, stream));
    const current = this.cache.current(snapshot.organizationId) ?? snapshot;
    if (current.version !== stream.sentVersion) {
      stream.sentVersion = current.version;
      writeToEventStream(res, current.event);
    }
  }

  private join(organizationId: string, stream: StatusStream): void {
    let audience = this.audiences.get(organizationId);
    if (!audience) {
      const streams = new Set<StatusStream>();
      const unsubscribe = this.cache.subscribe(organizationId, (event) => this.broadcast(streams, event));
      this.audiences.set(organizationId, (audience = { streams, unsubscribe }));
    }
    audience.streams.add(stream);
    this.open.add(stream.res);
  }

  private leave(organizationId: string, stream: StatusStream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.open.delete(stream.res);
    const audience = this.audiences.get(organizationId);
    audience?.streams.delete(stream);
    if (audience?.streams.size === 0) {
      audience.unsubscribe();
      this.audiences.delete(organizationId);
    }
    const left = (this.perAddress.get(stream.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(stream.address, left);
    else this.perAddress.delete(stream.address);
  }

  private broadcast(streams: Set<StatusStream>, event: SnapshotEvent): void {
    if (event.type === "gone") {
      for (const stream of [...streams]) stream.res.end();
      return;
    }
    const { version, event: bytes } = event.snapshot;
    for (const stream of streams) {
      if (version <= stream.sentVersion) continue;
      stream.sentVersion = version;
      writeToEventStream(stream.res, bytes);
    }
  }

  closeAll(): void {
    this.open.closeAll();
  }

  /** Open streams (tests, metrics). */
  get size(): number {
    return this.open.size;
  }
}

/** The public files of one page, relative to where the router is mounted. */
function pageRouter(resolve: Resolve, streams: StatusStreams | null): Router {
  const router = express.Router({ mergeParams: true });
  const route = (path: string, name: StatusRepresentationName) => {
    router.options(path, preflight);
    router.get(path, serve(name, resolve));
  };
  for (const file of STATUS_JSON_FILES) route(`/api/v2/${file}`, file);
  route("/history.rss", "history.rss");
  route("/history.atom", "history.atom");
  route("/badge.svg", "badge.svg");
  if (streams) {
    router.options("/events", preflight);
    router.get("/events", streams.handler(resolve));
  }
  return router;
}

/** Answers a request without Express, or says it did not (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;
/** The client's address as Express's req.ip gives it (TRUST_PROXY decides which hop). */
type ClientAddress = (req: IncomingMessage) => string;

const FAST_FILE = /^\/status\/([a-z0-9-]{1,48})\/(api\/v2\/[a-z/-]+\.json|history\.rss|history\.atom|badge\.svg)$/i;
const FAST_STREAM = /^\/status\/([a-z0-9-]{1,48})\/events$/i;
const FAST_NAMES = new Set<string>([
  ...STATUS_JSON_FILES.map((file) => `api/v2/${file}`),
  "history.rss",
  "history.atom",
  "badge.svg",
]);

/**
 * The hot path: a GET for a file of a page already in memory is answered straight from the
 * request listener with the pre-serialised bytes and precomputed headers, without Express's
 * routing and middleware (which would cost more than the answer itself). The page's event
 * stream is opened the same way, so each of thousands of open pages holds a socket and a small
 * record rather than Express's request state. Anything else, a page not loaded yet included,
 * goes on to Express, which loads it and answers the same.
 */
function fastPath(cache: StatusCache, streams: StatusStreams, clientAddress: ClientAddress): FastPath {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const url = req.url ?? "";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const stream = req.method === "GET" ? FAST_STREAM.exec(path) : null;
    if (stream) {
      const snapshot = cache.peek(stream[1]!);
      if (!snapshot) return false;
      streams.start(req, res, snapshot, clientAddress(req));
      return true;
    }
    const match = FAST_FILE.exec(path);
    if (!match || !FAST_NAMES.has(match[2]!)) return false;
    const snapshot = cache.peek(match[1]!);
    const name = (match[2]!.startsWith("api/v2/") ? match[2]!.slice(7) : match[2]!) as StatusRepresentationName;
    const representation = snapshot?.representations.get(name);
    if (!representation) return false;
    const headers: Record<string, string> = {
      ...PUBLIC_HEADERS,
      "Cache-Control": CACHE_CONTROL,
      ETag: representation.etag,
      "X-Content-Type-Options": "nosniff",
    };
    if (matches(req.headers["if-none-match"], representation.etag)) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, {
      ...headers,
      ...EXTRA_HEADERS[name],
      "Content-Type": representation.contentType,
      "Content-Length": String(representation.body.length),
    });
    res.end(req.method === "HEAD" ? undefined : representation.body);
    return true;
  };
}

export async function installStatusPages(app: Express, services: Services): Promise<FastPath> {
  const { config, database, httpServer } = services;
  const cache = new StatusCache({
    notifications: services.notifications,
    pool: services.authenticatorPool,
    anonymousRole: database.roles.anonymous,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    // Pages are only served once the server listens, so its port is known by then.
    origin: () => publicOrigin(config, (httpServer.address() as AddressInfo | null)?.port ?? config.PORT),
    renderers: { rss: renderRss, atom: renderAtom, badge: renderBadge },
    log: (message) => services.logger.warn({ component: "status cache" }, message),
  });
  cache.start();
  services.onShutdown("status cache", () => cache.stop());
  const streams = new StatusStreams(cache, config.STATUS_STREAM_HEARTBEAT_MS, config.STATUS_STREAMS_PER_ADDRESS);
  services.onShutdown("status streams", () => streams.closeAll());
  services.metrics.countStreams("status", () => streams.size);

  const bySlugParam: Resolve = (req) => cache.findBySlug(String(req.params.slug));
  app.use("/status/:slug", pageRouter(bySlugParam, streams));

  const byQuery: Resolve = (req) => {
    const { orgId, orgSlug } = req.query;
    if (typeof orgId === "string" && UUID.test(orgId)) return cache.findByOrganization(orgId);
    if (typeof orgSlug === "string") return cache.findBySlug(orgSlug);
    if (!config.MULTI_TENANT_ENABLED && orgId === undefined) return cache.findBySlug(DEFAULT_SLUG);
    return Promise.resolve(null);
  };
  app.options("/api/status/stream", preflight);
  app.get("/api/status/stream", streams.handler(byQuery));

  if (!config.MULTI_TENANT_ENABLED) {
    app.use(pageRouter(() => cache.findBySlug(DEFAULT_SLUG), null));
  }
  // Express compiles TRUST_PROXY (installSecurityHeaders); the fast path reads the same rule.
  const trust = app.get("trust proxy fn") as Parameters<typeof proxyAddress>[1];
  return fastPath(cache, streams, (req) => proxyAddress(req, trust));
}
