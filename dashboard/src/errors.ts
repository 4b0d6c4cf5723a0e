import type { CombinedError } from "urql";

/** Readable messages for the gateway's `extensions.code` values: one for each code of
 * docs/errors.md (tests/unit/test_dashboard_errors.py keeps them in step). */
const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: "Your token is missing, invalid or expired: sign in again.",
  FORBIDDEN: "You are not allowed to do this.",
  NOT_FOUND: "Not found, or not visible to you.",
  BAD_USER_INPUT: "Some input is not valid",
  INVALID_STATE: "The payment's status does not allow this now",
  IDEMPOTENCY_KEY_REUSED: "This request's key was already used for another request.",
  IDEMPOTENCY_KEY_IN_USE: "The same request is still running: retry shortly.",
  PAYOUT_FAILED: "The payout provider failed; the payout stays in progress: retry.",
  PAYOUT_TIMEOUT: "The payout provider did not answer in time; retry.",
  PAYOUT_DECLINED: "The payout provider declined the payout; the payment is rejected.",
  TRANSACTION_FAILED: "The provider answered but it could not be recorded; retry.",
  PAGE_SIZE_TOO_LARGE: "Page size too large (at most 200).",
  PARTNER_NOT_FOUND: "No such partner, or not one you can see.",
  INVALID_DATE_RANGE: "The start date is after the end date.",
  "PAYMENT-001": "No such reseller payment in your scope.",
  "PAYMENT-002": "No such payment method.",
  "PAYMENT-003": "The currency differs from the payment's.",
  PAYMENT_TOTAL_MISMATCH: "The total differs from the payment's.",
  VALIDATION_FAILED: "Some fields are not valid",
  AMOUNT_OUT_OF_RANGE: "A total is too large to compute.",
  STATEMENT_MISMATCH: "The statement's totals differ from the gateway's.",
  QUERY_TOO_DEEP: "The query nests too deeply.",
  TOO_MANY_ALIASES: "The query uses too many aliases.",
  TOO_MANY_TOKENS: "The query is too long.",
  QUERY_TOO_COSTLY: "The query would cost too much: narrow the filter or page size.",
  THROTTLED: "Too many requests: wait a moment",
  REQUEST_TOO_LARGE: "The request is too large.",
  TOO_MANY_EXPORTS: "Too many exports are running: retry in a few seconds.",
  BATCHING_NOT_SUPPORTED: "Batched requests are not supported.",
  BAD_REQUEST: "The request was malformed.",
  METHOD_NOT_ALLOWED: "This request needs POST.",
  PERSISTED_QUERY_NOT_FOUND:
    "The gateway does not know this dashboard's operations: start it with `paygraph serve --dashboard` or PAYGRAPH_TRUSTED_DOCUMENTS.",
  DOCUMENT_HASH_MISMATCH: "The operation does not match its hash.",
  DOCUMENT_NOT_TRUSTED: "The gateway only runs trusted documents, and this is not one.",
  REQUEST_TIMEOUT: "The request took too long.",
  RESPONSE_TOO_LARGE: "The answer would be too large: ask for fewer rows.",
  INTROSPECTION_DISABLED: "Introspection is disabled.",
  GRAPHQL_VALIDATION_FAILED: "The dashboard's query does not fit the gateway's schema.",
  INTERNAL_SERVER_ERROR: "Something went wrong on the server",
};

/** graphql-ws reports a closed socket as the CloseEvent (or a bare Event), not an Error. */
function networkMessage(error: Error): string {
  const closed = error as unknown as { code?: unknown; reason?: unknown };
  if (typeof closed.code === "number") {
    const reason = typeof closed.reason === "string" && closed.reason ? `: ${closed.reason}` : "";
    return `The live connection closed (${closed.code}${reason}).`;
  }
  return error.message ? `The gateway cannot be reached (${error.message}).` : "The live connection failed.";
}

export interface ReadableError {
  code: string;
  message: string;
}

/** One line per error, in the user's terms; the server's detail after the dash. */
export function readableErrors(error: CombinedError): ReadableError[] {
  if (error.networkError && error.graphQLErrors.length === 0) {
    return [{ code: "NETWORK", message: networkMessage(error.networkError) }];
  }
  return error.graphQLErrors.map((graphQLError) => {
    const extensions = graphQLError.extensions ?? {};
    const code = typeof extensions.code === "string" ? extensions.code : "ERROR";
    const known = MESSAGES[code];
    const details: string[] = [];
    for (const key of ["reason", "field", "status", "retryAfter", "requestId"]) {
      const value = extensions[key];
      if (value !== undefined && value !== null) details.push(`${key}: ${String(value)}`);
    }
    const base = known ?? graphQLError.message;
    const extra = known && graphQLError.message && !known.endsWith(".") ? ` (${graphQLError.message})` : "";
    const suffix = details.length ? ` [${details.join(", ")}]` : "";
    return { code, message: base + extra + suffix };
  });
}
