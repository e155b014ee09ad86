/**
 * A server-sent events client over fetch for tests: events (with their id and name) and
 * comments as they arrive, and waits with deadlines.
 */
export interface SseEvent {
  id: string | undefined;
  /** The `event:` field; undefined for the default "message". */
  event: string | undefined;
  data: string;
}

/** A server-sent events client over fetch: events and comments as they arrive. */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  headers = new Headers();
  ended = false;
  private readonly abort = new AbortController();
  private buffer = "";

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, {
      headers: { accept: "text/event-stream", ...headers },
      signal: client.abort.signal,
    });
    client.status = response.status;
    client.headers = response.headers;
    if (response.status !== 200 || !response.body) {
      client.buffer = await response.text();
      client.ended = true;
      return client;
    }
    void client.read(response.body);
    return client;
  }

  get body(): string {
    return this.buffer;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    try {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf("\n\n")) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          this.parse(block);
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  private parse(block: string) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments++;
      else if (line.startsWith("id:")) id = line.slice(3).trim();
      else if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0) this.events.push({ id, event, data: data.join("\n") });
  }

  async next(accept: (event: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(accept);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no matching event in ${timeoutMs} ms: ${JSON.stringify(this.events)}`);
      if (this.ended) throw new Error("the stream ended");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  close() {
    this.abort.abort();
  }
}
