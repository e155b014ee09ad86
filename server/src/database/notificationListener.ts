/**
 * One LISTEN connection per process, shared by everything that follows the database's
 * NOTIFYs (the public status cache, the dashboard's live updates). If the connection is lost
 * it reconnects with backoff and tells every subscriber, since notifications sent meanwhile
 * are gone and subscribers must read what they hold again.
 */
import pg from "pg";

export interface NotificationListenerOptions {
  /** Any role may LISTEN; the authenticator's URL is used. */
  url: string;
  reconnectDelayMs?: { initial: number; max: number };
  log?: (message: string) => void;
}

type NotificationHandler = (payload: string) => void;
type ReconnectHandler = () => void;

export class NotificationListener {
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly reconnectHandlers = new Set<ReconnectHandler>();
  private readonly reconnectDelays: { initial: number; max: number };
  private readonly log: (message: string) => void;
  private client: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay: number;
  private everConnected = false;
  private stopped = false;

  constructor(private readonly options: NotificationListenerOptions) {
    this.reconnectDelays = options.reconnectDelayMs ?? { initial: 250, max: 30_000 };
    this.reconnectDelay = this.reconnectDelays.initial;
    this.log = options.log ?? ((message) => console.warn(`[notifications] ${message}`));
  }

  /** Connects; if the database is away, keeps trying in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Whether the LISTEN connection is up (tests, health). */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Hears every notification on `channel` (a fixed identifier of ours); returns the unsubscribe. */
  subscribe(channel: string, handler: NotificationHandler): () => void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`Not a channel name: ${channel}`);
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      if (this.client) void this.client.query(`listen ${channel}`).catch((error: Error) => this.failed(error));
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Called after the connection came back: notifications may have been missed. */
  onReconnect(handler: ReconnectHandler): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: "incidentpulse-listener",
      keepAlive: true,
    });
    // Errors after a failure or `end` must not crash the process; only the live client counts.
    client.on("error", (error) => {
      if (this.client === client) this.log(`LISTEN connection failed: ${error.message}`);
      this.lost(client);
    });
    client.on("end", () => this.lost(client));
    client.on("notification", (message) => {
      if (!message.payload) return;
      for (const handler of [...(this.handlers.get(message.channel) ?? [])]) {
        try {
          handler(message.payload);
        } catch (error) {
          this.log(`a ${message.channel} subscriber failed: ${(error as Error).message}`);
        }
      }
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`listen ${channel}`);
    } catch (error) {
      this.log(`cannot LISTEN (${(error as Error).message}); retrying in ${this.reconnectDelay} ms`);
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = this.reconnectDelays.initial;
    if (this.everConnected) {
      for (const handler of [...this.reconnectHandlers]) handler();
    }
    this.everConnected = true;
  }

  private failed(error: Error): void {
    this.log(`LISTEN failed: ${error.message}`);
    if (this.client) this.lost(this.client);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.reconnectDelays.max);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
