import { useState } from "react";
import { useMutation } from "urql";
import type { CombinedError } from "urql";
import { graphql } from "../gql";
import type { CommissionAction } from "../gql/graphql";
import { StatusBadge } from "../components/StatusBadge";
import type { Payment } from "./PaymentDetail";

/* A payment's review: its documents to approve or reject, and the commission actions
 * `availableTransitions` offers (with why the others are not, as the gateway says). */

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

export type Run = (mutation: () => Promise<{ error?: CombinedError }>) => Promise<void>;

export function Transitions({ payment, busy, run }: { payment: Payment; busy: boolean; run: Run }) {
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

export function Documents({ payment, busy, run }: { payment: Payment; busy: boolean; run: Run }) {
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
