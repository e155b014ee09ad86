/**
 * A small bar chart in plain SVG, with its numbers also in a table for screen readers (the
 * picture itself is hidden from them). Values of null are drawn as gaps.
 */
import { useId } from "react";

export interface Bar {
  label: string;
  value: number | null;
}

export function BarChart({
  title,
  bars,
  format = (value) => String(value),
  height = 160,
}: {
  title: string;
  bars: Bar[];
  format?: (value: number) => string;
  height?: number;
}) {
  const id = useId();
  const max = Math.max(1, ...bars.map((bar) => bar.value ?? 0));
  const slot = 100 / Math.max(1, bars.length);
  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg
        viewBox={`0 0 100 ${height / 2}`}
        preserveAspectRatio="none"
        className="chart__svg"
        aria-hidden="true"
        style={{ height }}
      >
        {bars.map((bar, index) => {
          const barHeight = bar.value === null ? 0 : (bar.value / max) * (height / 2 - 2);
          return (
            <rect
              key={bar.label}
              x={index * slot + slot * 0.15}
              width={slot * 0.7}
              y={height / 2 - barHeight}
              height={barHeight}
              className="chart__bar"
            >
              <title>
                {bar.label}: {bar.value === null ? "no data" : format(bar.value)}
              </title>
            </rect>
          );
        })}
      </svg>
      <div className="chart__labels" aria-hidden="true">
        {bars.map((bar) => (
          <span key={bar.label} style={{ width: `${slot}%` }}>
            {bar.label}
            <br />
            <strong>{bar.value === null ? "—" : format(bar.value)}</strong>
          </span>
        ))}
      </div>
      <table className="sr-only">
        <caption>{title}</caption>
        <tbody>
          {bars.map((bar) => (
            <tr key={bar.label}>
              <th scope="row">{bar.label}</th>
              <td>{bar.value === null ? "no data" : format(bar.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
