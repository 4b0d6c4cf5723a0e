import { useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import type { CombinedError } from "urql";
import { graphql } from "../gql";
import type { CommissionAction, DashboardPaymentQuery } from "../gql/graphql";
import { ErrorList, LiveError } from "../components/ErrorList";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";

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

const ApproveDocument = graphql(`
  mutation DashboardApproveDocument($paymentId: ID!, $documentId: ID!) {
    approvePaymentDocument(paymentId: $paymentId, documentId: $documentId) {
      payment {
        id
        status
      }
    }
  }
`);

const RejectDocument = graphql(`
  mutation DashboardRejectDocument($paymentId: ID!, $documentId: ID!, $reason: String!) {
    rejectPaymentDocument(paymentId: $paymentId, documentId: $documentId, rejectionReason: $reason) {
      payment {
        id
        status
      }
    }
  }
`);

const RequestPayment = graphql(`
  mutation DashboardRequestPayment($id: ID!) {
    requestPartnerPayment(id: $id) {
      payment {
        id
        status
      }
    }
  }
`);

const SendToReview = graphql(`
  mutation DashboardSendToReview($id: ID!, $comments: String!) {
    sendPaymentToInternalReview(id: $id, comments: $comments) {
      payment {
        id
        status
      }
    }
  }
`);

const PayPayment = graphql(`
  mutation DashboardPay($id: ID!, $idempotencyKey: String!, $comments: String) {
    payPartnerPayment(id: $id, idempotencyKey: $idempotencyKey, comments: $comments) {
      payment {
        id
        status
      }
    }
  }
`);

const RejectPayment = graphql(`
  mutation DashboardRejectPayment($id: ID!, $comments: String) {
    rejectPartnerPayment(id: $id, comments: $comments) {
      payment {
        id
        status
      }
    }
  }
`);

const MarkAsPaid = graphql(`
  mutation DashboardMarkAsPaid($id: ID!, $paidAt: DateTime!, $idempotencyKey: String!) {
    markPartnerPaymentAsPaid(id: $id, paidAt: $paidAt, idempotencyKey: $idempotencyKey) {
      payment {
        id
        status
      }
    }
  }
`);

type Payment = NonNullable<DashboardPaymentQuery["payment"]>;
type AuditEvent = Payment["events"]["nodes"][number];

const ACTION_LABELS: Partial<Record<CommissionAction, string>> = {
  REQUEST_PAYMENT: "Request payment",
  SEND_TO_INTERNAL_REVIEW: "Send to internal review",
  PAY: "Pay",
  REJECT_PAYMENT: "Reject payment",
  MARK_AS_PAID: "Mark as paid",
};
// Per-document actions are offered on each document; uploads and the provider's
// answers are not the back office's buttons.
const DOCUMENT_ACTIONS: CommissionAction[] = ["ADD_DOCUMENT", "APPROVE_DOCUMENT", "REJECT_DOCUMENT"];

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
  const rows: [string, React.ReactNode][] = [
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

type Run = (mutation: () => Promise<{ error?: CombinedError }>) => Promise<void>;

function Transitions({ payment, busy, run }: { payment: Payment; busy: boolean; run: Run }) {
  const [, requestPayment] = useMutation(RequestPayment);
  const [, sendToReview] = useMutation(SendToReview);
  const [, pay] = useMutation(PayPayment);
  const [, rejectPayment] = useMutation(RejectPayment);
  const [, markAsPaid] = useMutation(MarkAsPaid);
  const [comments, setComments] = useState("");
  const transitions = payment.availableTransitions.filter((item) => !DOCUMENT_ACTIONS.includes(item.action));
  if (transitions.length === 0) return null;
  const id = payment.id;
  const take = (action: CommissionAction) => {
    switch (action) {
      case "REQUEST_PAYMENT":
        return run(() => requestPayment({ id }));
      case "SEND_TO_INTERNAL_REVIEW":
        return run(() => sendToReview({ id, comments }));
      case "PAY":
        return run(() => pay({ id, idempotencyKey: crypto.randomUUID(), comments: comments || null }));
      case "REJECT_PAYMENT":
        return run(() => rejectPayment({ id, comments: comments || null }));
      case "MARK_AS_PAID":
        return run(() => markAsPaid({ id, paidAt: new Date().toISOString(), idempotencyKey: crypto.randomUUID() }));
      default:
        return undefined;
    }
  };
  return (
    <div className="transitions" data-testid="transitions">
      <h2>Actions</h2>
      <label>
        Comments
        <input value={comments} onChange={(event) => setComments(event.target.value)} data-testid="transition-comments" />
      </label>
      <ul>
        {transitions.map((item) => {
          const label = ACTION_LABELS[item.action];
          const needsComments = item.action === "SEND_TO_INTERNAL_REVIEW" && !comments.trim();
          return (
            <li key={item.action}>
              <button
                type="button"
                data-testid={`transition-${item.action}`}
                disabled={busy || !item.allowed || !label || needsComments}
                onClick={() => void take(item.action)}
                title={item.mutation}
              >
                {label ?? item.action.replace(/_/g, " ").toLowerCase()}
              </button>
              {!item.allowed && item.reason && (
                <span className="reason" data-testid={`transition-reason-${item.action}`}>
                  {" "}
                  {item.reason.replace(/_/g, " ").toLowerCase()}
                </span>
              )}
              {item.allowed && !label && <span className="reason"> (the payout provider's answer)</span>}
              {item.allowed && needsComments && <span className="reason"> (comments required)</span>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Documents({ payment, busy, run }: { payment: Payment; busy: boolean; run: Run }) {
  const [, approve] = useMutation(ApproveDocument);
  const [, reject] = useMutation(RejectDocument);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const documents = payment.documents.nodes;
  if (documents.length === 0) return null;
  return (
    <div data-testid="documents">
      <h2>Documents</h2>
      <table>
        <thead>
          <tr>
            <th>Type</th>
            <th>File</th>
            <th>Status</th>
            <th>Review</th>
          </tr>
        </thead>
        <tbody>
          {documents.map((document) => {
            const reason = reasons[document.id] ?? "";
            return (
              <tr key={document.id} data-testid="document-row" data-document-id={document.id}>
                <td>
                  {document.documentType}
                  {document.required ? " (required)" : ""}
                </td>
                <td>{document.downloadPath ? <a href={document.downloadPath}>{document.fileName}</a> : document.fileName}</td>
                <td>
                  <StatusBadge status={document.status} />
                  {document.rejectionReason && <div className="reason">{document.rejectionReason}</div>}
                </td>
                <td>
                  <button
                    type="button"
                    data-testid="document-approve"
                    disabled={busy || document.status === "APPROVED"}
                    onClick={() => void run(() => approve({ paymentId: payment.id, documentId: document.id }))}
                  >
                    Approve
                  </button>
                  <input
                    placeholder="Reason to reject"
                    value={reason}
                    data-testid="document-reject-reason"
                    onChange={(event) => setReasons({ ...reasons, [document.id]: event.target.value })}
                  />
                  <button
                    type="button"
                    data-testid="document-reject"
                    disabled={busy || document.status === "APPROVED" || !reason.trim()}
                    onClick={() =>
                      void run(() =>
                        reject({ paymentId: payment.id, documentId: document.id, reason: reason.trim() }),
                      )
                    }
                  >
                    Reject
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
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
