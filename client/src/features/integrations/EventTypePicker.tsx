/**
 * Which events an endpoint or chat integration hears, from the server's own list
 * (`eventTypes`). Choosing none means every type, including types added later, which is
 * what the server stores as an empty list.
 */
import { useQuery } from "urql";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { EventTypesQuery } from "./queries.ts";

/** The stored subscription in words: an empty list is every event. */
export function describeEventTypes(eventTypes: string[]): string {
  return eventTypes.length === 0 ? "All events" : eventTypes.join(", ");
}

export function EventTypePicker({ value, onChange }: { value: string[]; onChange(next: string[]): void }) {
  const [{ data, error }] = useQuery<{ eventTypes: (string | null)[] | null }>({ query: EventTypesQuery });
  const types = (data?.eventTypes ?? []).filter((type): type is string => type != null);
  const toggle = (type: string, on: boolean) =>
    onChange(on ? types.filter((t) => t === type || value.includes(t)) : value.filter((t) => t !== type));
  return (
    <fieldset className="checkbox-list">
      <legend>Events</legend>
      <p className="field__hint">
        {value.length === 0 ? "None chosen: every event, including types added later." : `${value.length} chosen.`}
      </p>
      {types.map((type) => (
        <label key={type} className="inline-choice">
          <input type="checkbox" checked={value.includes(type)} onChange={(e) => toggle(type, e.target.checked)} />
          <code>{type}</code>
        </label>
      ))}
      <ErrorNotice error={error} />
    </fieldset>
  );
}

export function IncludeInternalChoice({ value, onChange }: { value: boolean; onChange(next: boolean): void }) {
  return (
    <label className="inline-choice">
      <input type="checkbox" checked={value} onChange={(e) => onChange(e.target.checked)} />
      Also send internal incidents, internal notes and hidden services
    </label>
  );
}
