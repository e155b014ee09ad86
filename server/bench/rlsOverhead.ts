/**
 * RLS overhead: the dashboard's incident list (first page of 20, newest first) as the visitor
 * role through the real policies, against the same query run by a superuser (RLS bypassed)
 * with an explicit organization filter. Then the same list through GraphQL over HTTP.
 *
 * The SQL is what PostGraphile sends for `incidents(first: 20, orderBy: STARTED_AT_DESC)`:
 * it fetches 21 rows (to know whether there is a next page) and appends the table's primary
 * key, which TenantKeyPlugin shortens to `id`, in the direction of the first order. Both
 * sides run as named (prepared) statements, like PostGraphile's, inside a transaction, one
 * after the other for the same random organization (the order alternates), and only the
 * statement itself is timed: the visitor's `set_config` calls are PostGraphile's per-request
 * cost, not the policies'.
 */
import autocannon from "autocannon";
import pg from "pg";
import { benchIdentity, rootUrlOf } from "./dataset.ts";
import { graphql, percentile, round, signIn, type BenchContext, type Product } from "./common.ts";

export const RLS_GOAL_RATIO = 1.3;

const COLUMNS = `id, title, severity, status, impact, visibility, assignee_id, started_at, acknowledged_at,
  resolved_at, created_at, updated_at`;
export const LIST_RLS = `select ${COLUMNS} from app_public.incidents order by started_at desc, id desc limit 21`;
const LIST_REFERENCE = `select ${COLUMNS} from app_public.incidents where organization_id = $1
  order by started_at desc, id desc limit 21`;

const GRAPHQL_LIST = `query List {
  incidents(first: 20, orderBy: STARTED_AT_DESC) {
    nodes { rowId title severity status impact visibility startedAt resolvedAt }
    pageInfo { hasNextPage endCursor }
  }
}`;

const GRAPHQL_TYPENAME = "query Reference { __typename }";

export interface LatencySummary {
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
}

export interface RlsOverheadResult {
  iterations: number;
  incidents: number;
  rls: LatencySummary;
  reference: LatencySummary;
  /** p50 under RLS / p50 of the reference. */
  ratioP50: number;
  ratioP95: number;
  goal: string;
  met: boolean;
  /** Server-side plan of the RLS query for one organization (EXPLAIN ANALYZE, text). */
  planRls: string;
  graphql: GraphqlLoad & {
    /** `{ __typename }` with the same token and load. */
    reference: GraphqlLoad;
    /** List requests per second / reference requests per second. */
    ratio: number;
    connections: number;
    seconds: number;
  };
}

export interface GraphqlLoad {
  requestsPerSecond: number;
  p97_5Ms: number;
  p99Ms: number;
}

const summarize = (values: number[]): LatencySummary => ({
  p50Ms: round(percentile(values, 50), 4),
  p95Ms: round(percentile(values, 95), 4),
  meanMs: round(values.reduce((a, b) => a + b, 0) / values.length, 4),
});

async function timed(client: pg.Client, name: string, text: string, values: unknown[], rows: number) {
  const started = performance.now();
  const result = await client.query({ name, text, values });
  const elapsed = performance.now() - started;
  // Both sides must see the whole page: fewer rows under RLS would mean the policies hid some.
  if (result.rowCount !== rows) throw new Error(`${name} returned ${result.rowCount} rows, not ${rows}`);
  return elapsed;
}

export async function measureRlsOverhead(context: BenchContext, product: Product): Promise<RlsOverheadResult> {
  const { options, database } = context;
  const visitor = new pg.Client({ connectionString: database.authenticatorUrl });
  const reference = new pg.Client({ connectionString: rootUrlOf(context.database) });
  await visitor.connect();
  await reference.connect();
  const rlsTimes: number[] = [];
  const referenceTimes: number[] = [];
  let planRls = "";
  const pageRows = Math.min(21, options.incidentsPerOrganization);
  try {
    const identities = await Promise.all(
      Array.from({ length: Math.min(options.organizations, 200) }, (_, index) =>
        benchIdentity(context.rootPool, index + 1),
      ),
    );
    const runRls = async (identity: (typeof identities)[number], record: boolean) => {
      await visitor.query("begin");
      await visitor.query(
        `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
                set_config('jwt.claims.session_id', $3, true), set_config('jwt.claims.org_id', $4, true)`,
        [database.roles.visitor, identity.userId, identity.sessionId, identity.organizationId],
      );
      const elapsed = await timed(visitor, "bench_list_rls", LIST_RLS, [], pageRows);
      await visitor.query("commit");
      if (record) rlsTimes.push(elapsed);
    };
    const runReference = async (identity: (typeof identities)[number], record: boolean) => {
      await reference.query("begin");
      const elapsed = await timed(
        reference,
        "bench_list_reference",
        LIST_REFERENCE,
        [identity.organizationId],
        pageRows,
      );
      await reference.query("commit");
      if (record) referenceTimes.push(elapsed);
    };
    const warmup = Math.min(100, options.queryIterations);
    for (let iteration = -warmup; iteration < options.queryIterations; iteration++) {
      const identity = identities[Math.floor(Math.random() * identities.length)]!;
      const record = iteration >= 0;
      if (iteration % 2 === 0) {
        await runRls(identity, record);
        await runReference(identity, record);
      } else {
        await runReference(identity, record);
        await runRls(identity, record);
      }
    }

    const identity = identities[0]!;
    await visitor.query("begin");
    await visitor.query(
      `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
              set_config('jwt.claims.session_id', $3, true), set_config('jwt.claims.org_id', $4, true)`,
      [database.roles.visitor, identity.userId, identity.sessionId, identity.organizationId],
    );
    const { rows } = await visitor.query<{ "QUERY PLAN": string }>(`explain (analyze, costs off) ${LIST_RLS}`);
    await visitor.query("commit");
    planRls = rows.map((row) => row["QUERY PLAN"]).join("\n");
  } finally {
    await visitor.end();
    await reference.end();
  }

  const rls = summarize(rlsTimes);
  const bare = summarize(referenceTimes);
  const ratioP50 = round(rls.p50Ms / bare.p50Ms);
  return {
    iterations: options.queryIterations,
    incidents: options.organizations * options.incidentsPerOrganization,
    rls,
    reference: bare,
    ratioP50,
    ratioP95: round(rls.p95Ms / bare.p95Ms),
    goal: `≤ ${RLS_GOAL_RATIO}× (p50)`,
    met: ratioP50 <= RLS_GOAL_RATIO,
    planRls,
    graphql: await measureGraphql(context, product),
  };
}

/**
 * The same list through GraphQL over HTTP, signed in as the owner of the first organization,
 * against `{ __typename }` with the same token: what every API request costs (authentication,
 * the request's transaction and settings, the HTTP and GraphQL layers) before the list itself.
 */
async function measureGraphql(context: BenchContext, product: Product): Promise<RlsOverheadResult["graphql"]> {
  const token = await signIn(product.origin, 1);
  const check = await graphql<{ incidents: { nodes: unknown[] } }>(product.origin, GRAPHQL_LIST, {}, token);
  if (check.incidents.nodes.length !== Math.min(20, context.options.incidentsPerOrganization)) {
    throw new Error(`the GraphQL list returned ${check.incidents.nodes.length} incidents`);
  }
  const list = await loadGraphql(context, product, token, GRAPHQL_LIST);
  const reference = await loadGraphql(context, product, token, GRAPHQL_TYPENAME);
  return {
    ...list,
    reference,
    ratio: round(list.requestsPerSecond / reference.requestsPerSecond),
    connections: context.options.loadConnections,
    seconds: context.options.loadSeconds,
  };
}

async function loadGraphql(
  context: BenchContext,
  product: Product,
  token: string,
  query: string,
): Promise<GraphqlLoad> {
  const { loadConnections: connections, loadSeconds: seconds } = context.options;
  const result = await autocannon({
    url: `${product.origin}/graphql`,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`GraphQL ${query.slice(0, 20)}…: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return {
    requestsPerSecond: round(result.requests.average, 1),
    // autocannon's histogram reports p90 and p97.5 but no p95; p97.5 bounds it from above.
    p97_5Ms: result.latency.p97_5,
    p99Ms: result.latency.p99,
  };
}
