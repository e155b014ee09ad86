/**
 * Slack, Discord and Microsoft Teams incoming webhooks (owners and admins; the server shows
 * them to nobody else). The URL is a credential: sent once, then only shown masked.
 */
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { formatDateTime } from "../../lib/format.ts";
import { problemsOf, requiredProblem, urlProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Facts } from "../../ui/Facts.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import { describeEventTypes, EventTypePicker, IncludeInternalChoice } from "./EventTypePicker.tsx";
import { DeliveriesButton, DeliveryLogPanel, EnabledBadge } from "./IntegrationControls.tsx";
import {
  CHAT_KINDS,
  ChatIntegrationsQuery,
  CreateChatIntegrationMutation,
  DeleteChatIntegrationMutation,
  SendTestChatMessageMutation,
  UpdateChatIntegrationMutation,
  type ChatIntegrationRow,
  type ChatKind,
} from "./queries.ts";

const kindLabel = (kind: ChatKind) => CHAT_KINDS.find((k) => k.value === kind)?.label ?? kind;

function CreateChatForm() {
  const [result, create] = useMutation(CreateChatIntegrationMutation);
  const [kind, setKind] = useState<ChatKind>("slack");
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const [includeInternal, setIncludeInternal] = useState(false);
  const [problems, setProblems] = useState<{ name?: string; url?: string }>({});
  const [added, setAdded] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    const found = problemsOf({ name: requiredProblem(name, "a name, e.g. the channel"), url: urlProblem(url) });
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const created = await create({ kind, name: name.trim(), url: url.trim(), eventTypes, includeInternal });
    if (!created.data?.createChatIntegration?.chatIntegration) return;
    setAdded(name.trim());
    setName("");
    setUrl("");
    setEventTypes([]);
    setIncludeInternal(false);
  };

  return (
    <form onSubmit={submit} aria-label="Add a chat integration" className="card form-grid" noValidate>
      <h2>Add a chat integration</h2>
      <Field label="Chat service">
        <select value={kind} onChange={(e) => setKind(e.target.value as ChatKind)}>
          {CHAT_KINDS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Name" hint="A label, e.g. the channel." problem={problems.name}>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <Field
        label="Incoming webhook URL"
        hint="From the chat service. Stored encrypted and shown masked afterwards."
        problem={problems.url}
      >
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required autoComplete="off" />
      </Field>
      <EventTypePicker value={eventTypes} onChange={setEventTypes} />
      <IncludeInternalChoice value={includeInternal} onChange={setIncludeInternal} />
      <ErrorNotice error={result.error} />
      {added && (
        <p role="status" className="success-text">
          Added {added}. Send a test message to check it.
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Add integration
        </button>
      </div>
    </form>
  );
}

function ChatCard({ integration }: { integration: ChatIntegrationRow }) {
  const [updated, update] = useMutation(UpdateChatIntegrationMutation);
  const [deleted, remove] = useMutation(DeleteChatIntegrationMutation);
  const [tested, sendTest] = useMutation(SendTestChatMessageMutation);
  const [logOpen, setLogOpen] = useState(false);
  const name = integration.name;
  const test = async () => {
    const result = await sendTest({ chatIntegrationId: integration.rowId });
    if (!result.error) setLogOpen(true);
  };

  return (
    <li className="card integration">
      <div className="integration__head">
        <h3 className="integration__title">
          {name} <span className="muted">({kindLabel(integration.kind)})</span>
        </h3>
        <EnabledBadge enabled={integration.enabled} reason={integration.disabledReason} />
      </div>
      <Facts
        items={[
          ["URL", <code key="url">{integration.urlHint}</code>],
          ["Events", describeEventTypes(integration.eventTypes)],
          ["Internal events", integration.includeInternal ? "Included" : "Not posted"],
          ["Failures in a row", integration.consecutiveFailures],
          ["Added", formatDateTime(integration.createdAt)],
        ]}
      />
      <div className="integration__actions">
        <button type="button" className="btn btn--small" disabled={tested.fetching} onClick={() => void test()}>
          Send test message<span className="sr-only"> to {name}</span>
        </button>
        <DeliveriesButton open={logOpen} onToggle={() => setLogOpen(!logOpen)} name={name} />
        <button
          type="button"
          className="btn btn--small"
          disabled={updated.fetching}
          onClick={() => void update({ rowId: integration.rowId, patch: { enabled: !integration.enabled } })}
        >
          {integration.enabled ? "Turn off" : "Turn on"}
          <span className="sr-only"> {name}</span>
        </button>
        <button
          type="button"
          className="btn btn--small btn--danger"
          disabled={deleted.fetching}
          onClick={() => {
            if (window.confirm(`Delete the ${kindLabel(integration.kind)} integration ${name}?`)) {
              void remove({ rowId: integration.rowId });
            }
          }}
        >
          Delete<span className="sr-only"> {name}</span>
        </button>
      </div>
      <ErrorNotice error={tested.error ?? updated.error ?? deleted.error} />
      <DeliveryLogPanel open={logOpen} target={{ chatIntegrationId: integration.rowId }} name={name} />
    </li>
  );
}

export function ChatIntegrationsPage() {
  const { can } = useRole();
  const allowed = can("manageIntegrations");
  const [{ data, fetching, error }] = useLiveQuery<{ chatIntegrations: { nodes: ChatIntegrationRow[] } | null }>({
    query: ChatIntegrationsQuery,
    context: listContext("ChatIntegration"),
    pause: !allowed,
  });
  if (!allowed) return <p role="alert">Only owners and admins manage chat integrations.</p>;
  const integrations = data?.chatIntegrations?.nodes ?? [];
  return (
    <>
      <PageHeader title="Chat">
        <p>Readable messages in Slack, Discord or Microsoft Teams channels when things change.</p>
      </PageHeader>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : integrations.length === 0 ? (
        <p className="empty">No chat integrations yet.</p>
      ) : (
        <ul className="card-list" aria-label="Chat integrations">
          {integrations.map((integration) => (
            <ChatCard key={integration.rowId} integration={integration} />
          ))}
        </ul>
      )}
      <CreateChatForm />
    </>
  );
}
