/**
 * Graceful shutdown: event streams end with a retry hint (browsers come back to another
 * replica, or to this one restarted), and new connections are refused.
 */
import { describe, expect, it } from "vitest";
import { organizationWithMembers } from "./helpers/organization.ts";
import { graphql, startTestServer } from "./helpers/testServer.ts";

/** Reads a streaming response to its end (or until `limitMs`), returning all text. */
async function readAll(response: Response, limitMs: number): Promise<{ text: string; ended: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + limitMs;
  for (;;) {
    const next = await Promise.race([
      reader.read(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()))),
    ]);
    if (next === null) return { text, ended: false };
    if (next.done) return { text, ended: true };
    text += decoder.decode(next.value, { stream: true });
  }
}

describe("stopping the server", () => {
  it("ends event streams with a retry hint, then refuses new connections", async () => {
    const server = await startTestServer({ MULTI_TENANT_ENABLED: "true", WORKER_ENABLED: "true" });
    try {
      const members = await organizationWithMembers(server, "graceful");
      await graphql(
        server.url,
        `
          mutation {
            createService(input: { service: { name: "API" } }) {
              clientMutationId
            }
          }
        `,
        {},
        { token: members.tokens.admin },
      );
      const deadline = Date.now() + 15_000;
      while ((await fetch(`${server.url}/status/graceful/api/v2/status.json`)).status !== 200) {
        if (Date.now() > deadline) throw new Error("the page was never built");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const statusStream = await fetch(`${server.url}/status/graceful/events`);
      const liveStream = await fetch(`${server.url}/api/live`, {
        headers: { authorization: `Bearer ${members.tokens.viewer}` },
      });
      expect([statusStream.status, liveStream.status]).toEqual([200, 200]);
      const stopping = server.server.stop();
      const [status, live] = await Promise.all([readAll(statusStream, 10_000), readAll(liveStream, 10_000)]);
      await stopping;

      for (const stream of [status, live]) {
        expect(stream.ended).toBe(true);
        expect(stream.text.endsWith("retry: 5000\n\n")).toBe(true);
      }
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    } finally {
      await server.stop().catch(() => undefined);
    }
  });
});
