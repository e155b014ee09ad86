// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeServer, type FakeAnswer } from "../../test/fakeServer.ts";
import { byLabel, byText, click, render, type } from "../../test/render.tsx";
import { SubscribeForm } from "./SubscribeForm.tsx";
import type { ComponentJson } from "./types.ts";

const api = { id: "3f1c2a9e-0000-4000-8000-000000000001", name: "API" } as ComponentJson;
const web = { id: "3f1c2a9e-0000-4000-8000-000000000002", name: "Web" } as ComponentJson;

afterEach(() => {
  vi.unstubAllGlobals();
});

async function subscribe(answer: FakeAnswer, email = "ada@example.com") {
  const { sent } = fakeServer(() => answer);
  const container = render(<SubscribeForm slug="acme" services={[api, web]} />);
  await type(byLabel(container, "Email address"), email);
  await click(byText(container, "label", "Web")!.querySelector("input"));
  await click(byText(container, "button", "Subscribe"));
  return { container, sent };
}

const refusal = (status: number, code: string, message: string): FakeAnswer => ({
  status,
  body: { errors: [{ message, extensions: { code } }] },
});

describe("SubscribeForm", () => {
  it("posts the address and the chosen services, then says to check the inbox", async () => {
    const { container, sent } = await subscribe({
      status: 202,
      body: { status: "pending_confirmation", message: "If this address can receive notifications, …" },
    });
    expect(sent.map((request) => [request.method, request.url, request.body])).toEqual([
      ["POST", "/status/acme/api/subscriptions", { email: "ada@example.com", serviceIds: [web.id] }],
    ]);
    const status = container.querySelector('[role="status"]')!;
    expect(status.textContent).toContain("Check your inbox.");
    expect(status.textContent).toContain("If ada@example.com can receive notifications");
    expect(container.querySelector("form")).toBeNull();
  });

  it("shows the server's refusal of the address next to the field", async () => {
    const { container } = await subscribe(refusal(422, "INVALID_EMAIL", "Enter a valid email address."));
    expect(container.querySelector('[role="alert"]')!.getAttribute("data-code")).toBe("INVALID_EMAIL");
    expect(byLabel(container, "Email address")!.getAttribute("aria-invalid")).toBe("true");
  });

  it("says to wait when sign-ups are rate limited", async () => {
    const { container } = await subscribe(refusal(429, "RATE_LIMITED", "Too many sign-ups. Try again later."));
    const alert = container.querySelector('[role="alert"]')!;
    expect(alert.getAttribute("data-code")).toBe("RATE_LIMITED");
    expect(alert.textContent).toContain("Wait a moment before trying again.");
    expect(container.querySelector("form")).not.toBeNull();
  });

  it("checks the address before sending", async () => {
    const { container, sent } = await subscribe({ body: {} }, "not-an-address");
    expect(sent).toHaveLength(0);
    expect(container.textContent).toContain("Enter an email address like name@example.com.");
  });
});
