/**
 * What the server's two kinds of server-sent event streams share (the public status stream and
 * the dashboard's live updates): how a stream starts, how bytes reach it, its heartbeats, and
 * how streams end on shutdown.
 *
 * A status change is written to every open stream of an organization at once, which can be
 * tens of thousands of sockets in one process, so the per-stream cost is kept to what the
 * socket itself needs:
 * - the body is not chunk-framed (it runs until the connection closes, as SSE allows), so an
 *   event is one write of a Buffer shared by all streams, straight to the socket;
 * - heartbeats come from one timer for all streams, which visits a slice of them per tick
 *   (spread over the heartbeat period), instead of a timer and closure per stream.
 */
import type { ServerResponse } from "node:http";

/** On shutdown: clients are told to come back in a few seconds (to another replica, or this one restarted). */
export const SHUTDOWN_RETRY_HINT = "retry: 5000\n\n";
const HEARTBEAT = Buffer.from(": heartbeat\n\n");
/** A client that stops reading is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Heartbeats are sent from a timer of at most this period, a slice of the streams per tick. */
const HEARTBEAT_TICK_MS = 1000;

/**
 * Sends the response head of an event stream. The first write (`retry:`) flushes it; after
 * that the stream's bytes go to the socket as they are.
 */
export function startEventStream(res: ServerResponse, headers: Record<string, string>, retryMs = 3000): void {
  // No Transfer-Encoding: chunked (Node.js's default without a length), so the body is the
  // events' bytes themselves and ends when the connection does.
  res.removeHeader("Transfer-Encoding");
  res.writeHead(200, {
    ...headers,
    "Content-Type": "text/event-stream; charset=utf-8",
    Connection: "close",
    "X-Accel-Buffering": "no",
  });
  res.socket?.setNoDelay(true);
  res.socket?.setKeepAlive(true);
  res.write(`retry: ${retryMs}\n\n`);
}

/**
 * Writes bytes to a started event stream. A client that has stopped reading (a megabyte
 * waiting) is disconnected. Writing to the socket directly is byte-for-byte what res.write
 * would send for an unframed body, without the per-call bookkeeping of a response.
 */
export function writeToEventStream(res: ServerResponse, chunk: Buffer | string): void {
  const socket = res.socket;
  if (!socket || res.writableEnded || socket.destroyed) return;
  if (socket.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
  socket.write(chunk);
}

/**
 * The open streams of one kind: ended together on shutdown, given heartbeats by one timer.
 * Each stream gets a heartbeat slot round-robin; a tick writes to the streams of one slot,
 * so every stream hears one heartbeat per period and the writes are spread over it.
 */
export class EventStreamSet {
  private readonly slots: Set<ServerResponse>[];
  private readonly slotOf = new Map<ServerResponse, Set<ServerResponse>>();
  private readonly tickMs: number;
  private nextSlot = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(heartbeatMs: number) {
    this.tickMs = Math.min(HEARTBEAT_TICK_MS, heartbeatMs);
    this.slots = Array.from({ length: Math.max(1, Math.round(heartbeatMs / this.tickMs)) }, () => new Set());
  }

  /** Follows a started stream until it closes. */
  add(res: ServerResponse): void {
    const slot = this.slots[this.nextSlot]!;
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    slot.add(res);
    this.slotOf.set(res, slot);
    if (!this.timer) {
      this.timer = setInterval(() => this.beat(), this.tickMs);
      this.timer.unref();
    }
  }

  delete(res: ServerResponse): void {
    this.slotOf.get(res)?.delete(res);
    this.slotOf.delete(res);
    if (this.slotOf.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  get size(): number {
    return this.slotOf.size;
  }

  closeAll(): void {
    for (const res of [...this.slotOf.keys()]) res.end(SHUTDOWN_RETRY_HINT);
  }

  private beat(): void {
    this.tick = (this.tick + 1) % this.slots.length;
    for (const res of this.slots[this.tick]!) writeToEventStream(res, HEARTBEAT);
  }
}
