// @vitest-environment happy-dom
import { Provider } from "urql";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeServer, graphQLAnswers, operationOf } from "../../test/fakeServer.ts";
import { byLabel, byText, click, render, settle, type } from "../../test/render.tsx";
import { AsRole } from "../../test/session.tsx";
import type { Role } from "../session/roles.ts";
import { WebhooksPage } from "./WebhooksPage.tsx";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_LABEL = "Signing secret (whsec_…). It is shown only now: store it safely.";

const endpoint = {
  rowId: "e1",
  url: "https://hooks.example.com/incidents",
  description: "Ops bot",
  eventTypes: [],
  enabled: true,
  includeInternal: false,
  secretHint: "whsec_…aSw",
  consecutiveFailures: 0,
  disabledAt: null,
  disabledReason: null,
  createdAt: "2026-03-01T10:00:00Z",
  createdBy: { name: "Ada" },
};

afterEach(() => {
  vi.unstubAllGlobals();
});

async function page(role: Role) {
  const { client, sent } = fakeServer(
    graphQLAnswers({
      WebhookEndpoints: { webhookEndpoints: { nodes: [endpoint] } },
      EventTypes: { eventTypes: ["incident.created", "incident.resolved"] },
      CreateWebhookEndpoint: { createWebhookEndpoint: { secret: SECRET, webhookEndpoint: { rowId: "e2" } } },
      RotateWebhookEndpointSecret: {
        rotateWebhookEndpointSecret: { secret: `${SECRET}2`, webhookEndpoint: { rowId: "e1", secretHint: "…w2" } },
      },
    }),
  );
  const container = render(
    <Provider value={client}>
      <AsRole role={role}>
        <WebhooksPage />
      </AsRole>
    </Provider>,
  );
  await settle();
  return { container, sent };
}

describe("WebhooksPage", () => {
  it("lists endpoints with only the secret's hint", async () => {
    const { container } = await page("admin");
    const card = container.querySelector(".integration")!;
    expect(card.textContent).toContain("https://hooks.example.com/incidents");
    expect(card.textContent).toContain("All events");
    expect(card.textContent).toContain("whsec_…aSw");
    expect(container.innerHTML).not.toContain(SECRET);
  });

  it("shows a new endpoint's secret once, until it is dismissed", async () => {
    const { container, sent } = await page("admin");
    await type(byLabel(container, "Endpoint URL"), " https://hooks.example.com/new ");
    await click(byText(container, "label", "incident.created")!.querySelector("input"));
    await click(byText(container, "button", "Add endpoint"));

    const created = sent.find((request) => operationOf(request) === "CreateWebhookEndpoint")!;
    expect(created.body.variables).toEqual({
      url: "https://hooks.example.com/new",
      description: null,
      eventTypes: ["incident.created"],
      includeInternal: false,
    });
    expect(byLabel(container, SECRET_LABEL)!.value).toBe(SECRET);
    expect(byLabel(container, "Endpoint URL")!.value).toBe("");

    await click(byText(container, "button", "I have stored it"));
    expect(byLabel(container, SECRET_LABEL)).toBeNull();
    expect(container.innerHTML).not.toContain(SECRET);
  });

  it("shows a rotated secret once, after asking", async () => {
    const { container, sent } = await page("owner");
    vi.stubGlobal(
      "confirm",
      vi.fn(() => true),
    );
    await click(byText(container, "button", "Rotate secret of Ops bot"));
    expect(sent.some((request) => operationOf(request) === "RotateWebhookEndpointSecret")).toBe(true);
    expect(container.querySelector(".integration")!.querySelector("input")!.value).toBe(`${SECRET}2`);
  });

  it("checks the URL before sending", async () => {
    const { container, sent } = await page("admin");
    await type(byLabel(container, "Endpoint URL"), "ftp://example.com");
    await click(byText(container, "button", "Add endpoint"));
    expect(sent.some((request) => operationOf(request) === "CreateWebhookEndpoint")).toBe(false);
    expect(container.textContent).toContain("Enter an address starting with https://");
  });

  it("shows viewers and editors neither endpoints nor controls, and asks the server nothing", async () => {
    for (const role of ["viewer", "editor"] as const) {
      const { container, sent } = await page(role);
      expect(container.querySelector('[role="alert"]')!.textContent).toBe("Only owners and admins manage webhooks.");
      expect(container.querySelectorAll("button, form")).toHaveLength(0);
      expect(sent).toHaveLength(0);
    }
  });
});
