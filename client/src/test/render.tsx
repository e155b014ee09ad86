/**
 * Component tests without extra libraries: React renders into a happy-dom container inside
 * act(), and the test reads and drives the DOM directly.
 */
import { act, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach } from "vitest";

declare global {
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

const mounted: { root: Root; container: HTMLElement }[] = [];

afterEach(() => {
  for (const { root, container } of mounted.splice(0)) {
    act(() => root.unmount());
    container.remove();
  }
});

export function render(node: ReactNode): HTMLElement {
  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  act(() => root.render(node));
  mounted.push({ root, container });
  return container;
}

/** Runs a DOM interaction (and the updates it causes) inside act(). */
export async function interact(action: () => void | Promise<void>): Promise<void> {
  await act(async () => {
    await action();
  });
}

export function click(element: Element | null): Promise<void> {
  if (!element) throw new Error("nothing to click");
  return interact(() => (element as HTMLElement).click());
}

/** Types into a controlled input the way React notices (the native value setter, then input). */
export function type(element: Element | null, value: string): Promise<void> {
  if (!element) throw new Error("nothing to type into");
  const input = element as HTMLInputElement;
  return interact(() => {
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), "value")!.set!;
    setter.call(input, value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

export function key(element: Element | null, keyName: string): Promise<void> {
  if (!element) throw new Error("nothing to press keys on");
  return interact(() => {
    element.dispatchEvent(new KeyboardEvent("keydown", { key: keyName, bubbles: true }));
  });
}

/** The element whose text (trimmed) is exactly this, among the matches of a selector. */
export function byText(container: Element, selector: string, text: string): HTMLElement | null {
  return (
    [...container.querySelectorAll<HTMLElement>(selector)].find((element) => element.textContent?.trim() === text) ??
    null
  );
}

/** Lets pending requests answer and React render what they bring (a few macrotask turns). */
export async function settle(turns = 3): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) {
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
  }
}

/** The form control a <label> with exactly this text points at. */
export function byLabel<T extends HTMLElement = HTMLInputElement>(container: Element, text: string): T | null {
  const label = [...container.querySelectorAll("label")].find((l) => l.textContent?.trim() === text);
  return label ? container.querySelector<T>(`#${CSS.escape(label.htmlFor)}`) : null;
}
