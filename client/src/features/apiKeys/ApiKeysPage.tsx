/** API keys for tools: created with a role (never above your own), shown once, revocable. */
import { useState, type FormEvent } from "react";
import { gql, useMutation } from "urql";
import { formatDateTime, fromLocalInput, humanize } from "../../lib/format.ts";
import { requiredProblem } from "../../lib/validation.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Field } from "../../ui/Field.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { PageHeader } from "../../ui/PageHeader.tsx";
import { SecretOnce } from "../../ui/SecretOnce.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { ROLES, type Role } from "../session/roles.ts";
import { useRole } from "../session/useRole.ts";

const ApiKeysQuery = gql`
  query ApiKeys {
    apiKeys(orderBy: [CREATED_AT_DESC]) {
      nodes {
        rowId
        name
        role
        displayPrefix
        createdAt
        expiresAt
        lastUsedAt
        revokedAt
        createdBy {
          name
        }
      }
    }
  }
`;
const CreateApiKeyMutation = gql`
  mutation CreateApiKey($name: String!, $role: MembershipRole!, $expiresAt: Datetime) {
    createApiKey(input: { name: $name, role: $role, expiresAt: $expiresAt }) {
      token
      apiKey {
        rowId
      }
    }
  }
`;
const RevokeApiKeyMutation = gql`
  mutation RevokeApiKey($apiKeyId: UUID!) {
    revokeApiKey(input: { apiKeyId: $apiKeyId }) {
      apiKey {
        rowId
        revokedAt
      }
    }
  }
`;

interface ApiKeyRow {
  rowId: string;
  name: string;
  role: Role;
  displayPrefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdBy: { name: string } | null;
}

function RevokeButton({ apiKey }: { apiKey: ApiKeyRow }) {
  const [result, revoke] = useMutation(RevokeApiKeyMutation);
  return (
    <>
      <button
        type="button"
        className="btn btn--small btn--danger"
        disabled={result.fetching}
        onClick={() => {
          if (window.confirm(`Revoke “${apiKey.name}”? Tools using it stop working at once.`)) {
            void revoke({ apiKeyId: apiKey.rowId });
          }
        }}
      >
        Revoke<span className="sr-only"> {apiKey.name}</span>
      </button>
      <ErrorNotice error={result.error} />
    </>
  );
}

function CreateKeyForm({ myRole }: { myRole: Role | null }) {
  const [result, create] = useMutation(CreateApiKeyMutation);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const [expires, setExpires] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const roles = ROLES.slice(0, ROLES.indexOf(myRole ?? "viewer") + 1);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setToken(null);
    const found = requiredProblem(name, "a name");
    setProblem(found);
    if (found) return;
    const created = await create({ name: name.trim(), role, expiresAt: expires ? fromLocalInput(expires) : null });
    const issued = created.data?.createApiKey?.token as string | undefined;
    if (!issued) return;
    setToken(issued);
    setName("");
  };
  return (
    <form onSubmit={submit} aria-label="Create an API key" className="card form-grid" noValidate>
      <h2>Create a key</h2>
      <Field label="Name" hint="What uses it, e.g. “Monitoring”." problem={problem}>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </Field>
      <Field label="Role">
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {roles.map((value) => (
            <option key={value} value={value}>
              {humanize(value)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Expires (optional)">
        <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </Field>
      <ErrorNotice error={result.error} />
      {token && (
        <SecretOnce
          label="Your new key. It is shown only now: store it safely."
          value={token}
          onDismiss={() => setToken(null)}
        />
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn--primary" disabled={result.fetching}>
          Create key
        </button>
      </div>
    </form>
  );
}

export function ApiKeysPage() {
  const { can, role } = useRole();
  const [{ data, fetching, error }] = useLiveQuery<{ apiKeys: { nodes: ApiKeyRow[] } | null }>({
    query: ApiKeysQuery,
    context: listContext("ApiKey"),
    pause: !can("manageApiKeys"),
  });
  if (!can("manageApiKeys")) return <p role="alert">Only owners and admins manage API keys.</p>;
  const keys = data?.apiKeys?.nodes ?? [];
  return (
    <>
      <PageHeader title="API keys">
        <p>Keys act under the same rules as members with their role; they never manage members, keys or billing.</p>
      </PageHeader>
      <ErrorNotice error={error} />
      {fetching && !data ? (
        <Loading />
      ) : keys.length === 0 ? (
        <p className="empty">No keys yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Role</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.rowId}>
                  <th scope="row">
                    {key.name}
                    <div className="muted">by {key.createdBy?.name ?? "someone"}</div>
                  </th>
                  <td>
                    <code>{key.displayPrefix}…</code>
                  </td>
                  <td>{humanize(key.role)}</td>
                  <td>{formatDateTime(key.lastUsedAt)}</td>
                  <td>{key.expiresAt ? formatDateTime(key.expiresAt) : "Never"}</td>
                  <td>{key.revokedAt ? `Revoked ${formatDateTime(key.revokedAt)}` : <RevokeButton apiKey={key} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateKeyForm myRole={role} />
    </>
  );
}
