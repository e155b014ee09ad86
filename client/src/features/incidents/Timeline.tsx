import { formatDateTime, humanize } from "../../lib/format.ts";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import type { TimelineEntry } from "./queries.ts";

/** The incident's updates, newest first: status changes, service changes, public or internal. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className="empty">No updates yet.</p>;
  return (
    <ol className="timeline" aria-label="Timeline">
      {entries.map((entry) => {
        // Claims that repeat the status a service already had are not news.
        const changes = entry.incidentUpdateServiceChanges.nodes.filter(
          (change) => change.oldStatus !== change.newStatus,
        );
        return (
          <li key={entry.rowId} className={`timeline__entry ${entry.isPublic ? "" : "timeline__entry--internal"}`}>
            <div className="timeline__meta">
              <StatusBadge value={entry.status} />
              {entry.previousStatus === "resolved" && entry.status !== "resolved" && (
                <span className="badge badge--bad">Reopened</span>
              )}
              <StatusBadge
                value={entry.isPublic ? "public" : "internal"}
                label={entry.isPublic ? "Public" : "Internal note"}
              />
              <time dateTime={entry.displayAt}>{formatDateTime(entry.displayAt)}</time>
              <span className="timeline__author">
                {entry.authorUser?.name ?? (entry.authorApiKey ? `API key “${entry.authorApiKey.name}”` : "System")}
              </span>
            </div>
            <p className="timeline__body">{entry.body}</p>
            {changes.length > 0 && (
              <ul className="timeline__changes">
                {changes.map((change) => (
                  <li key={change.serviceId}>
                    {change.service?.name ?? "A service"}: {humanize(change.oldStatus)} → {humanize(change.newStatus)}
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  );
}
