import { useState, type ReactNode } from "react";
import { useQuery, useSubscription } from "urql";
import type { CombinedError } from "urql";
import { graphql } from "../gql";
import type { DashboardPaymentQuery } from "../gql/graphql";
import { ErrorList, LiveError } from "../components/ErrorList";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";
import { Documents, Transitions } from "./PaymentReview";

const PaymentQuery = graphql(`
  query DashboardPayment($id: ID!) {
    payment(id: $id) {
      id
      databaseId
      kind
      status
      currency
      reference
      documentNumber
      description
      comments
      periodStart
      periodEnd
      cutoffDate
      paidAt
      createdAt
      updatedAt
      amount {
        formatted
      }
      paidAmount {
        formatted
      }
      settleableAmount {
        formatted
      }
      partner {
        id
        name
      }
      merchant {
        id
        name
      }
      terminal {
        id
        serial
      }
      invoice {
        id
        number
      }
      user {
        id
        name
      }
      details(first: 50) {
        totalCount
        nodes {
          id
          carrier
          trackingNumber
          shipmentReference
          createdAt
          amount {
            formatted
          }
        }
      }
      documents(first: 50) {
        nodes {
          id
          documentType
          status
          required
          rejectionReason
          reviewedAt
          fileName
          downloadPath
        }
      }
      availableTransitions {
        action
        mutation
        allowed
        reason
      }
      events(first: 200) {
        nodes {
          ...DashboardAuditEvent
        }
      }
    }
  }
`);

graphql(`
  fragment DashboardAuditEvent on PaymentEvent {
    id
    action
    actorLabel
    fromStatus
    toStatus
    comments
    createdAt
  }
`);

const PaymentEventsSubscription = graphql(`
  subscription DashboardPaymentEvents($paymentId: ID!) {
    paymentEvents(paymentId: $paymentId) {
      ...DashboardAuditEvent
    }
  }
`);

export type Payment = NonNullable<DashboardPaymentQuery["payment"]>;
type AuditEvent = Payment["events"]["nodes"][number];
export function PaymentDetail({ id }: { id: string }) {
  const [result, refetch] = useQuery({ query: PaymentQuery, variables: { id } });
  const refresh = () => refetch({ requestPolicy: "network-only" });
  const payment = result.data?.payment;
  const [live] = useSubscription(
    { query: PaymentEventsSubscription, variables: { paymentId: id } },
    (previous: AuditEvent[] = [], event) => [...previous, event.paymentEvents],
  );
  const [actionError, setActionError] = useState<CombinedError | undefined>();
  const [busy, setBusy] = useState(false);

  const run = async (mutation: () => Promise<{ error?: CombinedError }>) => {
    setBusy(true);
    const outcome = await mutation();
    setBusy(false);
    setActionError(outcome.error);
    refresh();
  };

  return (
    <section>
      <p>
        <Link to={{ screen: "payments" }}>← Payments</Link>
      </p>
      <ErrorList error={result.error} />
      {result.data && !payment && <p>No such payment, or not one you can see.</p>}
      {payment && (
        <>
          <h1>
            Payment {payment.databaseId} <StatusBadge status={payment.status} />
          </h1>
          <Summary payment={payment} />
          <ErrorList error={actionError} />
          <Transitions payment={payment} busy={busy} run={run} />
          <Documents payment={payment} busy={busy} run={run} />
          <Details payment={payment} />
          <AuditTrail events={mergeEvents(payment.events.nodes, live.data ?? [])} />
          <LiveError error={live.error} />
        </>
      )}
    </section>
  );
}

/** The trail as queried, then what arrived live since, each event once. */
function mergeEvents(queried: AuditEvent[], live: AuditEvent[]): AuditEvent[] {
  const seen = new Set(queried.map((event) => event.id));
  return [...queried, ...live.filter((event) => !seen.has(event.id) && seen.add(event.id))];
}

function Summary({ payment }: { payment: Payment }) {
  const rows: [string, ReactNode][] = [
    ["Kind", payment.kind],
    ["Amount", payment.amount.formatted],
    ["Paid", payment.paidAmount?.formatted],
    ["Settleable", payment.settleableAmount?.formatted],
    ["Reference", payment.reference],
    ["Document number", payment.documentNumber],
    ["Description", payment.description],
    ["Comments", payment.comments],
    ["Period", payment.periodStart && `${payment.periodStart} – ${payment.periodEnd ?? ""}`],
    ["Cutoff date", payment.cutoffDate],
    ["Paid at", payment.paidAt],
    ["Created", payment.createdAt],
    ["Updated", payment.updatedAt],
    [
      "Partner",
      payment.partner && (
        <Link to={{ screen: "portfolio", partnerId: payment.partner.id }}>{payment.partner.name}</Link>
      ),
    ],
    ["Merchant", payment.merchant?.name],
    ["Terminal", payment.terminal?.serial],
    ["Invoice", payment.invoice?.number],
    ["Partner user", payment.user?.name],
  ];
  return (
    <dl className="summary" data-testid="payment-summary">
      {rows
        .filter(([, value]) => value !== null && value !== undefined && value !== "")
        .map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

function Details({ payment }: { payment: Payment }) {
  const details = payment.details.nodes;
  if (details.length === 0) return null;
  return (
    <div data-testid="details">
      <h2>Detail rows ({payment.details.totalCount})</h2>
      <table>
        <thead>
          <tr>
            <th>Carrier</th>
            <th>Tracking number</th>
            <th>Shipment</th>
            <th>Amount</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {details.map((detail) => (
            <tr key={detail.id} data-testid="detail-row">
              <td>{detail.carrier}</td>
              <td>{detail.trackingNumber}</td>
              <td>{detail.shipmentReference}</td>
              <td className="number">{detail.amount.formatted}</td>
              <td>{new Date(detail.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AuditTrail({ events }: { events: AuditEvent[] }) {
  return (
    <div>
      <h2>Audit trail</h2>
      <ol className="audit" data-testid="audit-list">
        {events.map((event) => (
          <li key={event.id} data-testid="audit-event">
            <time>{new Date(event.createdAt).toLocaleString()}</time> <strong>{event.action}</strong> by{" "}
            {event.actorLabel}
            {event.fromStatus && event.toStatus && ` (${event.fromStatus} → ${event.toStatus})`}
            {event.comments && `: ${event.comments}`}
          </li>
        ))}
      </ol>
    </div>
  );
}
