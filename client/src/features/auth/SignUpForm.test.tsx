// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { Provider } from "urql";
import { createClient } from "../../graphql.ts";
import { click, render, type } from "../../test/render.tsx";
import { SignUpForm } from "./SignUpForm.tsx";

/** The real client over a fake network: every request answers with this body; requests are kept. */
function fakeClient(body: { data?: unknown; errors?: unknown[] }) {
  const sent: { query: string; variables: Record<string, unknown> }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (_url: string, init: RequestInit) => {
      sent.push(JSON.parse(String(init.body)) as (typeof sent)[number]);
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
    }),
  );
  return { client: createClient(), sent };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

function form(result: { data?: unknown; errors?: unknown[] }, onRegistered = vi.fn()) {
  const { client, sent } = fakeClient(result);
  const container = render(
    <Provider value={client}>
      <SignUpForm onRegistered={onRegistered} />
    </Provider>,
  );
  const input = (label: string) =>
    container.querySelector<HTMLInputElement>(
      `#${CSS.escape([...container.querySelectorAll("label")].find((l) => l.textContent === label)!.htmlFor)}`,
    );
  return { container, sent, input, onRegistered };
}

describe("SignUpForm", () => {
  it("points at each field's problem and sends nothing", async () => {
    const { container, sent, input } = form({});
    await type(input("Email"), "not-an-email");
    await type(input("Password"), "short");
    await click(container.querySelector('button[type="submit"]'));
    expect(sent).toHaveLength(0);
    expect(input("Name")!.getAttribute("aria-invalid")).toBe("true");
    expect(container.textContent).toContain("Enter your name.");
    expect(container.textContent).toContain("Enter an email address like name@example.com.");
    expect(container.textContent).toContain("Use at least 8 characters.");
    const describedBy = input("Password")!.getAttribute("aria-describedby")!.split(" ");
    expect(describedBy.map((id) => container.querySelector(`#${CSS.escape(id)}`)!.textContent)).toContain(
      "Use at least 8 characters.",
    );
  });

  it("registers with valid input", async () => {
    const { container, sent, input, onRegistered } = form({
      data: { register: { userId: "u1", organizationId: null } },
    });
    await type(input("Name"), "Ada");
    await type(input("Email"), " ada@example.com ");
    await type(input("Password"), "correct horse battery");
    await click(container.querySelector('button[type="submit"]'));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toContain("mutation Register");
    expect(sent[0]!.variables).toEqual({
      name: "Ada",
      email: "ada@example.com",
      password: "correct horse battery",
      invitationToken: null,
    });
    expect(onRegistered).toHaveBeenCalled();
  });

  it("shows the server's refusal next to the form", async () => {
    const { container, input, onRegistered } = form({
      errors: [{ message: "This email already has an account.", extensions: { code: "EMAIL_TAKEN" } }],
    });
    await type(input("Name"), "Ada");
    await type(input("Email"), "ada@example.com");
    await type(input("Password"), "correct horse battery");
    await click(container.querySelector('button[type="submit"]'));
    expect(container.querySelector('form [role="alert"]')!.getAttribute("data-code")).toBe("EMAIL_TAKEN");
    expect(onRegistered).not.toHaveBeenCalled();
  });
});
