/**
 * The delivery log of one webhook endpoint or chat integration (the same log on the server):
 * one row per attempt, newest first, with its outcome, and a redelivery of any message.
 */
import { useEffect, useEffectEvent, useState } from "react";
import { useMutation } from "urql";
import { formatDateTime, humanize } from "../../lib/format.ts";
import { ErrorNotice } from "../../ui/ErrorNotice.tsx";
import { Loading } from "../../ui/Loading.tsx";
import { Pagination } from "../../ui/Pagination.tsx";
import { StatusBadge } from "../../ui/StatusBadge.tsx";
import { listContext, useLiveQuery } from "../live/LiveUpdates.tsx";
import { conditionOf, deliveryNote, formatDurationMs, POLL_MS, shouldPoll } from "./deliveries.ts";
import { DeliveriesQuery, RedeliverMutation, type DeliveryRow, type DeliveryTarget } from "./queries.ts";

const PAGE_SIZE = 20;

function RedeliverButton({ delivery }: { delivery: DeliveryRow }) {
  const [result, redeliver] = useMutation(RedeliverMutation);
  return (
    <>
      <button
        type="button"
        className="btn btn--small"
        disabled={result.fetching}
        onClick={() => void redeliver({ deliveryId: delivery.rowId })}
      >
        Redeliver<span className="sr-only"> the {delivery.eventType} message</span>
      </button>
      <ErrorNotice error={result.error} />
    </>
  );
}

/** The table alone, for any list of attempts. */
export function DeliveryTable({ deliveries, canRedeliver }: { deliveries: DeliveryRow[]; canRedeliver: boolean }) {
  if (deliveries.length === 0) return <p className="empty">Nothing sent yet.</p>;
  return (
    <div className="table-wrap">
      <table className="table delivery-log">
        <caption className="sr-only">Deliveries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Response</th>
            <th scope="col">Duration</th>
            <th scope="col">Attempt</th>
            <th scope="col">Details</th>
            {canRedeliver && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => (
            <tr key={delivery.rowId} data-status={delivery.status}>
              <td>
                <time dateTime={delivery.finishedAt ?? delivery.scheduledAt}>
                  {formatDateTime(delivery.finishedAt ?? delivery.scheduledAt)}
                </time>
              </td>
              <td>
                <code>{delivery.eventType}</code>
                {/* A test's type says it already; a redelivery is worth saying. */}
                {delivery.origin !== "event" && delivery.origin !== delivery.eventType && (
                  <div className="muted">{humanize(delivery.origin)}</div>
                )}
              </td>
              <td>
                <StatusBadge value={delivery.status} />
              </td>
              <td>{delivery.responseStatus ?? "—"}</td>
              <td>{formatDurationMs(delivery.durationMs)}</td>
              <td>{delivery.attempt}</td>
              <td className="log-detail">
                {deliveryNote(delivery)}
                {delivery.responseBody && (
                  <details>
                    <summary>Response body</summary>
                    <pre>{delivery.responseBody}</pre>
                  </details>
                )}
              </td>
              {canRedeliver && <td>{delivery.status !== "pending" && <RedeliverButton delivery={delivery} />}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DeliveryLog({ target, canRedeliver = true }: { target: DeliveryTarget; canRedeliver?: boolean }) {
  const [page, setPage] = useState(1);
  const [{ data, fetching, error }, reexecute] = useLiveQuery<{
    webhookDeliveries: { totalCount: number; nodes: DeliveryRow[] } | null;
  }>({
    query: DeliveriesQuery,
    variables: { condition: conditionOf(target), first: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
    context: listContext("WebhookDelivery"),
  });
  const deliveries = data?.webhookDeliveries?.nodes ?? [];
  const poll = shouldPoll(deliveries);
  const refresh = useEffectEvent(() => reexecute({ requestPolicy: "network-only" }));
  useEffect(() => {
    if (!poll || fetching) return;
    const timer = setTimeout(refresh, POLL_MS);
    return () => clearTimeout(timer);
  }, [poll, fetching, data]);

  return (
    <div className="delivery-log-section">
      <ErrorNotice error={error} />
      {fetching && !data ? <Loading /> : <DeliveryTable deliveries={deliveries} canRedeliver={canRedeliver} />}
      <Pagination page={page} pageSize={PAGE_SIZE} total={data?.webhookDeliveries?.totalCount ?? 0} onPage={setPage} />
    </div>
  );
}
