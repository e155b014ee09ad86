/**
 * What webhook endpoints and chat integrations share in the dashboard: their state in words,
 * turning them on and off, and the delivery log opened from the card.
 */
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { DeliveryLog } from "./DeliveryLog.tsx";
import type { DeliveryTarget, DisabledReason } from "./queries.ts";

export function EnabledBadge({ enabled, reason }: { enabled: boolean; reason: DisabledReason }) {
  if (enabled) return <StatusBadge value="enabled" label="On" />;
  return reason === "failing" ? (
    <StatusBadge value="failing" label="Off: deliveries kept failing" />
  ) : (
    <StatusBadge value="disabled" label="Off" />
  );
}

/** Opens and closes a card's delivery log (a test send opens it too). */
export function DeliveriesButton({ open, onToggle, name }: { open: boolean; onToggle(): void; name: string }) {
  return (
    <button type="button" className="btn btn--small" aria-expanded={open} onClick={onToggle}>
      {open ? "Hide deliveries" : "Deliveries"}
      <span className="sr-only"> of {name}</span>
    </button>
  );
}

export function DeliveryLogPanel({ open, target, name }: { open: boolean; target: DeliveryTarget; name: string }) {
  if (!open) return null;
  return (
    <section aria-label={`Deliveries of ${name}`}>
      <DeliveryLog target={target} />
    </section>
  );
}
