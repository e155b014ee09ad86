// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { interact, key, render } from "../../test/render.tsx";
import type { UptimeDayJson } from "./types.ts";
import { UptimeBars } from "./UptimeBars.tsx";
import { describeDay, formatPercent } from "./uptime.ts";

const today = new Date("2026-03-31T15:00:00Z");
const day = (date: string, extra: Partial<UptimeDayJson> = {}): UptimeDayJson => ({
  date,
  uptime_percent: 100,
  major_outage_seconds: 0,
  partial_outage_seconds: 0,
  degraded_seconds: 0,
  maintenance_seconds: 0,
  ...extra,
});

const days = [
  day("2026-03-29", { uptime_percent: 97.9, major_outage_seconds: 1800 }),
  day("2026-03-30", { uptime_percent: 99.5, degraded_seconds: 600 }),
  day("2026-03-31"),
];

const renderBars = () => render(<UptimeBars name="API" days={days} uptimePercent={99.1} window={90} today={today} />);

describe("UptimeBars", () => {
  it("draws one bar per day of the window, oldest first, days without data included", () => {
    const bars = renderBars().querySelectorAll(".uptime__bar");
    expect(bars).toHaveLength(90);
    expect(bars[0]!.getAttribute("data-date")).toBe("2026-01-01");
    expect(bars[89]!.getAttribute("data-date")).toBe("2026-03-31");
    expect(bars[0]!.className).toContain("uptime__bar--none");
    expect(bars[87]!.className).toContain("uptime__bar--major");
    expect(bars[88]!.className).toContain("uptime__bar--minor");
    expect(bars[89]!.className).toContain("uptime__bar--ok");
  });

  it("shows a service too new to have days as a strip without data", () => {
    const container = render(<UptimeBars name="New" days={null} uptimePercent={null} window={90} today={today} />);
    const bars = container.querySelectorAll(".uptime__bar");
    expect(bars).toHaveLength(90);
    expect([...bars].every((bar) => bar.className.includes("uptime__bar--none"))).toBe(true);
    expect(container.querySelector('[role="group"]')!.getAttribute("aria-label")).toContain("New: — uptime");
  });

  it("names the service and its uptime for screen readers", () => {
    const strip = renderBars().querySelector('[role="group"]')!;
    expect(strip.getAttribute("aria-label")).toContain("API: 99.10% uptime over the last 90 days");
  });

  it("shows a tooltip for the day under the pointer", async () => {
    const container = renderBars();
    const bar = container.querySelectorAll(".uptime__bar")[87]!;
    await interact(() => {
      bar.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    });
    const tooltip = container.querySelector('[role="tooltip"]')!;
    expect(tooltip.textContent).toContain("97.90% uptime, major outage 30 min");
  });

  it("moves through the days with the keyboard and describes each", async () => {
    const container = renderBars();
    const strip = container.querySelector<HTMLElement>('[role="group"]')!;
    await interact(() => strip.focus());
    expect(container.querySelector('[role="tooltip"]')!.textContent).toContain("100.00% uptime, no incidents");
    expect(strip.getAttribute("aria-describedby")).toBe(container.querySelector('[role="tooltip"]')!.id);
    await key(strip, "ArrowLeft");
    expect(container.querySelector('[role="tooltip"]')!.textContent).toContain("degraded 10 min");
    await key(strip, "Home");
    expect(container.querySelector('[role="tooltip"]')!.textContent).toContain("No data");
    await key(strip, "End");
    expect(container.querySelector(".uptime__bar--active")!.getAttribute("data-date")).toBe("2026-03-31");
    await key(strip, "Escape");
    expect(container.querySelector('[role="tooltip"]')).toBeNull();
  });
});

describe("uptime words", () => {
  it("never rounds an imperfect day up to 100%", () => {
    expect(formatPercent(99.999)).toBe("99.99%");
    expect(formatPercent(null)).toBe("—");
  });

  it("describes maintenance and missing days", () => {
    expect(describeDay(day("2026-03-01", { maintenance_seconds: 3600 }))).toBe("100.00% uptime, maintenance 60 min");
    expect(describeDay(null)).toBe("No data");
  });
});
