import { useState, type FormEvent } from "react";
import { gql, useMutation, useQuery } from "urql";

const CurrentUserQuery = gql`
  query CurrentUser {
    currentUser {
      rowId
      name
      email
    }
    currentOrganization {
      name
      slug
    }
    currentMembership {
      role
    }
  }
`;

const LoginMutation = gql`
  mutation Login($email: String!, $password: String!) {
    login(input: { email: $email, password: $password }) {
      userId
    }
  }
`;

const LogoutMutation = gql`
  mutation Logout {
    logout
  }
`;

export function App() {
  const [{ data, fetching }, refetch] = useQuery({ query: CurrentUserQuery });
  const [login, runLogin] = useMutation(LoginMutation);
  const [, runLogout] = useMutation(LogoutMutation);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  const reload = () => refetch({ requestPolicy: "network-only" });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await runLogin({ email, password });
    if (!result.error) reload();
  };

  if (fetching) return <p>Loading…</p>;
  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: 480, margin: "4rem auto" }}>
      <h1>IncidentPulse</h1>
      {data?.currentUser ? (
        <section>
          <p>
            Signed in as <strong>{data.currentUser.name}</strong> ({data.currentUser.email})
          </p>
          {data.currentOrganization && (
            <p>
              Organization: {data.currentOrganization.name} · role {data.currentMembership?.role?.toLowerCase()}
            </p>
          )}
          <button onClick={() => runLogout({}).then(reload)}>Sign out</button>
        </section>
      ) : (
        <form onSubmit={submit} aria-label="Sign in">
          <label>
            Email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          </label>
          <label>
            Password <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </label>
          <button type="submit">Sign in</button>
          {login.error && <p role="alert">{login.error.graphQLErrors[0]?.message ?? "Sign-in failed"}</p>}
        </form>
      )}
    </main>
  );
}
