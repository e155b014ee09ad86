// @vitest-environment happy-dom
import { Provider } from "urql";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeServer, graphQLAnswers, operationOf } from "../../test/fakeServer.ts";
import { byText, click, render } from "../../test/render.tsx";
import { shouldPoll } from "./deliveries.ts";
import { DeliveryTable } from "./DeliveryLog.tsx";
import type { DeliveryRow } from "./queries.ts";

const row = (rowId: string, extra: Partial<DeliveryRow>): DeliveryRow => ({
  rowId,
  eventType: "incident.created",
  origin: "event",
  messageId: `msg_${rowId}`,
  attempt: 1,
  status: "succeeded",
  scheduledAt: "2026-03-01T10:00:00Z",
  finishedAt: "2026-03-01T10:00:01Z",
  responseStatus: 200,
  durationMs: 123,
  responseBody: "ok",
  error: null,
  nextAttemptAt: null,
  createdAt: "2026-03-01T10:00:00Z",
  ...extra,
});

const deliveries = [
  row("d3", {
    status: "pending",
    attempt: 3,
    finishedAt: null,
    responseStatus: null,
    durationMs: null,
    responseBody: null,
  }),
  row("d2", {
    status: "failed",
    attempt: 2,
    responseStatus: 503,
    durationMs: 10_000,
    error: "HTTP 503",
    nextAttemptAt: "2026-03-01T10:02:00Z",
  }),
  row("d1", { eventType: "test", origin: "test" }),
];

afterEach(() => {
  vi.unstubAllGlobals();
});

function table(canRedeliver = true) {
  const { client, sent } = fakeServer(
    graphQLAnswers({ RedeliverWebhook: { redeliverWebhook: { webhookDelivery: { rowId: "d4", status: "pending" } } } }),
  );
  const container = render(
    <Provider value={client}>
      <DeliveryTable deliveries={deliveries} canRedeliver={canRedeliver} />
    </Provider>,
  );
  return { container, sent };
}

describe("DeliveryTable", () => {
  it("shows each attempt's status, response, duration, attempt and what went wrong", () => {
    const { container } = table();
    const rows = [...container.querySelectorAll("tbody tr")];
    expect(rows.map((tr) => tr.getAttribute("data-status"))).toEqual(["pending", "failed", "succeeded"]);
    const text = (tr: Element) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim());

    const [, failedEvent, failedStatus, failedResponse, failedDuration, failedAttempt, failedDetail] = text(rows[1]!);
    expect([failedEvent, failedStatus, failedResponse, failedDuration, failedAttempt]).toEqual([
      "incident.created",
      "Failed",
      "503",
      "10.0 s",
      "2",
    ]);
    expect(failedDetail).toContain("HTTP 503. Next attempt");

    const succeeded = text(rows[2]!);
    expect(succeeded.slice(1, 6)).toEqual(["test", "Succeeded", "200", "123 ms", "1"]);
    expect(rows[2]!.querySelector("details pre")!.textContent).toBe("ok");

    const pending = text(rows[0]!);
    expect(pending.slice(2, 5)).toEqual(["Pending", "—", "—"]);
    expect(pending[6]).toMatch(/^Due /);
  });

  it("offers a redelivery of every finished attempt, and sends it", async () => {
    const { container, sent } = table();
    const buttons = [...container.querySelectorAll("tbody button")];
    expect(buttons.map((button) => button.closest("tr")!.getAttribute("data-status"))).toEqual(["failed", "succeeded"]);
    await click(byText(container, "button", "Redeliver the test message"));
    expect(sent.map((request) => [operationOf(request), request.body.variables])).toEqual([
      ["RedeliverWebhook", { deliveryId: "d1" }],
    ]);
  });

  it("has no redelivery for those who may not", () => {
    expect(table(false).container.querySelectorAll("button")).toHaveLength(0);
  });

  it("says when nothing was sent yet", () => {
    expect(render(<DeliveryTable deliveries={[]} canRedeliver />).textContent).toBe("Nothing sent yet.");
  });
});

describe("shouldPoll", () => {
  const now = Date.parse("2026-03-01T10:00:00Z");
  it("re-reads while an attempt is pending and due within a minute", () => {
    expect(shouldPoll([{ status: "pending", scheduledAt: "2026-03-01T10:00:30Z" }], now)).toBe(true);
    expect(shouldPoll([{ status: "pending", scheduledAt: "2026-03-01T09:59:00Z" }], now)).toBe(true);
  });
  it("waits for later retries and finished attempts without polling", () => {
    expect(shouldPoll([{ status: "pending", scheduledAt: "2026-03-01T10:30:00Z" }], now)).toBe(false);
    expect(shouldPoll([{ status: "failed", scheduledAt: "2026-03-01T10:00:00Z" }], now)).toBe(false);
    expect(shouldPoll([], now)).toBe(false);
  });
});
