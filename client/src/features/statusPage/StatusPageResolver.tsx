/**
 * /status without a slug: `?orgSlug=` goes straight to the page; `?orgId=` asks the public
 * stream for that organization and takes the slug from the page URL it announces; otherwise
 * the page opened last in this browser, or a form to name one.
 */
import { useEffect, useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { lastStatusPage } from "./lastPage.ts";

function slugFromPageUrl(url: string): string | null {
  const match = /\/status\/([^/?#]+)/.exec(url);
  return match ? decodeURIComponent(match[1]!) : null;
}

function ResolveById({ organizationId }: { organizationId: string }) {
  const navigate = useNavigate();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const source = new EventSource(`/api/status/stream?orgId=${encodeURIComponent(organizationId)}`);
    source.onmessage = (event: MessageEvent<string>) => {
      const slug = slugFromPageUrl((JSON.parse(event.data) as { page: { url: string } }).page.url);
      source.close();
      if (slug) void navigate(`/status/${encodeURIComponent(slug)}`, { replace: true });
      else setFailed(true);
    };
    source.onerror = () => {
      source.close();
      setFailed(true);
    };
    return () => source.close();
  }, [organizationId, navigate]);
  return (
    <main id="main" className="status-page">
      {failed ? <h1>No such status page</h1> : <p role="status">Finding the status page…</p>}
    </main>
  );
}

function ChoosePage() {
  const navigate = useNavigate();
  const [slug, setSlug] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (slug.trim()) void navigate(`/status/${encodeURIComponent(slug.trim())}`);
  };
  return (
    <main id="main" className="status-page">
      <h1>Status pages</h1>
      <form onSubmit={submit} className="inline-form" aria-label="Open a status page">
        <label htmlFor="status-slug">Organization’s page name</label>
        <input id="status-slug" value={slug} onChange={(e) => setSlug(e.target.value)} />
        <button type="submit" className="btn btn--primary">
          Open
        </button>
      </form>
    </main>
  );
}

export function StatusPageResolver() {
  const [params] = useSearchParams();
  const slug = params.get("orgSlug");
  const organizationId = params.get("orgId");
  if (slug) return <Navigate to={`/status/${encodeURIComponent(slug)}`} replace />;
  if (organizationId) return <ResolveById organizationId={organizationId} />;
  const last = lastStatusPage();
  if (last) return <Navigate to={`/status/${encodeURIComponent(last)}`} replace />;
  return <ChoosePage />;
}
