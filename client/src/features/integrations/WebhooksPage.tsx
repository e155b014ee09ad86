/**
 * Outbound webhooks (owners and admins; the server shows them to nobody else): endpoints with
 * their signing secret shown once, turning on and off, a test event, and the delivery log.
 */
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { formatDateTime } from "../../lib/format.ts";
import { urlProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Facts } from "../../ui/Facts.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { SecretOnce } from "../../ui/SecretOnce.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { useRole } from "../session/useRole.ts";
import { describeEventTypes, EventTypePicker, IncludeInternalChoice } from "./EventTypePicker.tsx";
import { DeliveriesButton, DeliveryLogPanel, EnabledBadge } from "./IntegrationControls.tsx";
import {
  CreateWebhookEndpointMutation,
  DeleteWebhookEndpointMutation,
  RotateWebhookSecretMutation,
  SendTestWebhookMutation,
  UpdateWebhookEndpointMutation,
  WebhookEndpointsQuery,
  type WebhookEndpointRow,
} from "./queries.ts";

const SECRET_LABEL = "Signing secret (whsec_…). It is shown only now: store it safely.";

function CreateEndpointForm() {
  const [result, create] = useMutation(CreateWebhookEndpointMutation);
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const [includeInternal, setIncludeInternal] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSecret(null);
    const found = urlProblem(url);
    setProblem(found);
    if (found) return;
    const created = await create({
      url: url.trim(),
      description: description.trim() || null,
      eventTypes,
      includeInternal,
    });
    const issued = created.data?.createWebhookEndpoint?.secret as string | undefined;
    if (!issued) return;
    setSecret(issued);
    setUrl("");
    setDescription("");
    setEventTypes([]);
    setIncludeInternal(false);
  };

  return (
    <form onSubmit={submit} aria-label="Add a webhook endpoint" className="card form-grid" noValidate>
      <h2>Add an endpoint</h2>
      <Field label="Endpoint URL" hint="http or https; it must resolve to a public address." problem={problem}>
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required />
      </Field>
      <Field label="Description (optional)">
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <EventTypePicker value={eventTypes} onChange={setEventTypes} />
      <IncludeInternalChoice value={includeInternal} onChange={setIncludeInternal} />
      <ErrorNotice error={result.error} />
      {secret && (
        <SecretOnce label={SECRET_LABEL} value={secret} onDismiss={() => setSecret(null)}>
          <p className="field__hint">Verify each request’s webhook-signature header with it (Standard Webhooks).</p>
        </SecretOnce>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Add endpoint
        </button>
      </div>
    </form>
  );
}

function EndpointCard({ endpoint }: { endpoint: WebhookEndpointRow }) {
  const [updated, update] = useMutation(UpdateWebhookEndpointMutation);
  const [deleted, remove] = useMutation(DeleteWebhookEndpointMutation);
  const [rotated, rotate] = useMutation(RotateWebhookSecretMutation);
  const [tested, sendTest] = useMutation(SendTestWebhookMutation);
  const [secret, setSecret] = useState<string | null>(null);
  const [logOpen, setLogOpen] = useState(false);
  const name = endpoint.description || endpoint.url;

  const rotateSecret = async () => {
    if (!window.confirm(`Replace the signing secret of ${name}? The current one stops working at once.`)) return;
    setSecret(null);
    const result = await rotate({ webhookEndpointId: endpoint.rowId });
    const issued = result.data?.rotateWebhookEndpointSecret?.secret as string | undefined;
    if (issued) setSecret(issued);
  };
  const test = async () => {
    const result = await sendTest({ webhookEndpointId: endpoint.rowId });
    if (!result.error) setLogOpen(true);
  };

  return (
    <li className="card integration">
      <div className="integration__head">
        <h3 className="integration__title">{endpoint.url}</h3>
        <EnabledBadge enabled={endpoint.enabled} reason={endpoint.disabledReason} />
      </div>
      {endpoint.description && <p>{endpoint.description}</p>}
      <Facts
        items={[
          ["Events", describeEventTypes(endpoint.eventTypes)],
          ["Internal events", endpoint.includeInternal ? "Included" : "Not sent"],
          ["Secret", <code key="secret">{endpoint.secretHint}</code>],
          ["Failures in a row", endpoint.consecutiveFailures],
          ["Added", `${formatDateTime(endpoint.createdAt)} by ${endpoint.createdBy?.name ?? "someone"}`],
        ]}
      />
      <div className="integration__actions">
        <button type="button" className="btn btn--small" disabled={tested.fetching} onClick={() => void test()}>
          Send test event<span className="sr-only"> to {name}</span>
        </button>
        <DeliveriesButton open={logOpen} onToggle={() => setLogOpen(!logOpen)} name={name} />
        <button
          type="button"
          className="btn btn--small"
          disabled={updated.fetching}
          onClick={() => void update({ rowId: endpoint.rowId, patch: { enabled: !endpoint.enabled } })}
        >
          {endpoint.enabled ? "Turn off" : "Turn on"}
          <span className="sr-only"> {name}</span>
        </button>
        <button
          type="button"
          className="btn btn--small"
          disabled={rotated.fetching}
          onClick={() => void rotateSecret()}
        >
          Rotate secret<span className="sr-only"> of {name}</span>
        </button>
        <button
          type="button"
          className="btn btn--small btn--danger"
          disabled={deleted.fetching}
          onClick={() => {
            if (window.confirm(`Delete the endpoint ${endpoint.url} and its delivery log?`)) {
              void remove({ rowId: endpoint.rowId });
            }
          }}
        >
          Delete<span className="sr-only"> {name}</span>
        </button>
      </div>
      <ErrorNotice error={tested.error ?? updated.error ?? rotated.error ?? deleted.error} />
      {secret && <SecretOnce label={SECRET_LABEL} value={secret} onDismiss={() => setSecret(null)} />}
      <DeliveryLogPanel open={logOpen} target={{ webhookEndpointId: endpoint.rowId }} name={name} />
    </li>
  );
}

export function WebhooksPage() {
  const { can } = useRole();
  const allowed = can("manageIntegrations");
  const [{ data, fetching, error }] = useLiveQuery<{ webhookEndpoints: { nodes: WebhookEndpointRow[] } | null }>({
    query: WebhookEndpointsQuery,
    context: listContext("WebhookEndpoint"),
    pause: !allowed,
  });
  if (!allowed) return <p role="alert">Only owners and admins manage webhooks.</p>;
  const endpoints = data?.webhookEndpoints?.nodes ?? [];
  return (
    <>
      <PageHeader title="Webhooks">
        <p>Signed JSON requests to your endpoints when incidents, maintenance and services change.</p>
      </PageHeader>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : endpoints.length === 0 ? (
        <p className="empty">No endpoints yet.</p>
      ) : (
        <ul className="card-list" aria-label="Webhook endpoints">
          {endpoints.map((endpoint) => (
            <EndpointCard key={endpoint.rowId} endpoint={endpoint} />
          ))}
        </ul>
      )}
      <CreateEndpointForm />
    </>
  );
}
