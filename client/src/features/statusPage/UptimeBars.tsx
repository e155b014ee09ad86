/**
 * 90 days of one service as bars, one per day, with a tooltip per day. Pointer users hover a
 * bar; keyboard users focus the strip (one tab stop, not ninety) and move with the arrow
 * keys, Home and End; the chosen day is announced.
 */
import { useId, useState, type KeyboardEvent } from "react";
import { formatDate } from "../../lib/format.ts";
import type { UptimeDayJson } from "./types.ts";
import { alignDays, dayTone, describeDay, formatPercent } from "./uptime.ts";

export function UptimeBars({
  name,
  days,
  uptimePercent,
  window = 90,
  today,
}: {
  name: string;
  days: UptimeDayJson[] | null;
  uptimePercent: number | null;
  window?: number;
  today?: Date;
}) {
  const aligned = alignDays(days, window, today);
  const [active, setActive] = useState<number | null>(null);
  const tooltipId = useId();
  const activeDay = active === null ? null : aligned[active];

  const onKeyDown = (event: KeyboardEvent) => {
    const last = aligned.length - 1;
    const current = active ?? last;
    const moves: Record<string, number> = {
      ArrowLeft: Math.max(0, current - 1),
      ArrowRight: Math.min(last, current + 1),
      Home: 0,
      End: last,
    };
    if (event.key in moves) {
      event.preventDefault();
      setActive(moves[event.key]!);
    } else if (event.key === "Escape") {
      setActive(null);
    }
  };

  return (
    <div className="uptime">
      <div
        className="uptime__bars"
        role="group"
        tabIndex={0}
        aria-label={`${name}: ${formatPercent(uptimePercent)} uptime over the last ${window} days. Use the arrow keys for each day.`}
        aria-describedby={activeDay ? tooltipId : undefined}
        onKeyDown={onKeyDown}
        onFocus={() => setActive((value) => value ?? aligned.length - 1)}
        onBlur={() => setActive(null)}
        onMouseLeave={() => setActive(null)}
      >
        {aligned.map(({ date, day }, index) => (
          <span
            key={date}
            className={`uptime__bar uptime__bar--${dayTone(day)} ${index === active ? "uptime__bar--active" : ""}`}
            data-date={date}
            onMouseEnter={() => setActive(index)}
          />
        ))}
      </div>
      {activeDay && (
        <div
          id={tooltipId}
          role="tooltip"
          className="uptime__tooltip"
          aria-live="polite"
          style={{ left: `${((active ?? 0) / Math.max(1, aligned.length - 1)) * 100}%` }}
        >
          <strong>{formatDate(activeDay.date)}</strong>
          <span>{describeDay(activeDay.day)}</span>
        </div>
      )}
      <div className="uptime__legend" aria-hidden="true">
        <span>{window} days ago</span>
        <span>{formatPercent(uptimePercent)} uptime</span>
        <span>Today</span>
      </div>
    </div>
  );
}
