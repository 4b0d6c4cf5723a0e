import { useMemo, useState, type FormEvent } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "../gql";
import type { PaymentFilter, PaymentKind, PaymentSortField, PaymentStatus, SortDirection } from "../gql/graphql";
import { ErrorList, LiveError } from "../components/ErrorList";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";

const PaymentsQuery = graphql(`
  query DashboardPayments(
    $filter: PaymentFilter
    $sort: [PaymentSort!]
    $first: Int
    $after: String
    $last: Int
    $before: String
  ) {
    payments(filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      nodes {
        id
        databaseId
        kind
        status
        reference
        createdAt
        amount {
          formatted
        }
        partner {
          id
          name
        }
      }
    }
  }
`);

const PartnersQuery = graphql(`
  query DashboardPartners {
    partners(first: 200, sort: [{ field: NAME }]) {
      nodes {
        id
        name
      }
    }
  }
`);

const PaymentChangedSubscription = graphql(`
  subscription DashboardPaymentChanged($filter: PaymentFilter) {
    paymentChanged(filter: $filter) {
      id
      status
      updatedAt
    }
  }
`);

const KINDS: PaymentKind[] = ["COMMISSION", "ACQUIRING", "RESELLER", "INVOICE"];
const STATUSES: PaymentStatus[] = [
  "GENERATED", "PAYMENT_REQUESTED", "DOCUMENTS_REJECTED", "APPROVED_FOR_PAYMENT", "PAYOUT_IN_PROGRESS",
  "UNDER_REVIEW", "PAYMENT_REJECTED", "PAID", "MANUALLY_PAID", "CREATED", "PROCESSING", "COMPLETED",
  "INVALID", "UNDERPAID", "OVERPAID", "REFUNDED", "WAITING_FOR_PAYMENT", "EXPIRED", "CANCELLED",
  "RECORDED", "DELETED",
];
const SORT_FIELDS: PaymentSortField[] = ["CREATED_AT", "UPDATED_AT", "AMOUNT", "STATUS", "KIND", "REFERENCE", "ID"];
const PAGE_SIZE = 25;

interface Form {
  kind: string;
  status: string;
  partner: string;
  from: string;
  to: string;
  minAmount: string;
  maxAmount: string;
  reference: string;
}

const EMPTY: Form = { kind: "", status: "", partner: "", from: "", to: "", minAmount: "", maxAmount: "", reference: "" };

/** The list's filter from the form: dates are whole UTC days, amounts minor units. */
export function filterOf(form: Form): PaymentFilter {
  const filter: PaymentFilter = {};
  if (form.kind) filter.kind = { eq: form.kind as PaymentKind };
  if (form.status) filter.status = { eq: form.status as PaymentStatus };
  if (form.partner) filter.partnerId = { eq: form.partner };
  if (form.from || form.to) {
    filter.createdAt = {
      ...(form.from ? { gte: `${form.from}T00:00:00Z` } : {}),
      ...(form.to ? { lte: `${form.to}T23:59:59.999999Z` } : {}),
    };
  }
  if (form.minAmount || form.maxAmount) {
    filter.amount = {
      ...(form.minAmount ? { gte: form.minAmount } : {}),
      ...(form.maxAmount ? { lte: form.maxAmount } : {}),
    };
  }
  if (form.reference.trim()) filter.reference = { contains: form.reference.trim() };
  return filter;
}

type Page = { after?: string; before?: string };

export function Payments() {
  const [draft, setDraft] = useState<Form>(EMPTY);
  const [form, setForm] = useState<Form>(EMPTY);
  const [sortField, setSortField] = useState<PaymentSortField>("CREATED_AT");
  const [direction, setDirection] = useState<SortDirection>("DESC");
  const [page, setPage] = useState<Page>({});
  const filter = useMemo(() => filterOf(form), [form]);
  const variables = useMemo(
    () => ({
      filter,
      sort: [{ field: sortField, direction }],
      ...(page.before ? { last: PAGE_SIZE, before: page.before } : { first: PAGE_SIZE, after: page.after }),
    }),
    [filter, sortField, direction, page],
  );
  const [result] = useQuery({ query: PaymentsQuery, variables });
  const [partners] = useQuery({ query: PartnersQuery });
  const connection = result.data?.payments;
  const ids = useMemo(() => connection?.nodes.map((node) => node.id) ?? [], [connection]);

  // Live statuses of the rows on screen, by id, as paymentChanged delivers them.
  const [live] = useSubscription(
    {
      query: PaymentChangedSubscription,
      variables: { filter: { id: { in: ids } } },
      pause: ids.length === 0,
    },
    (previous: Record<string, string> = {}, event) => ({
      ...previous,
      [event.paymentChanged.id]: event.paymentChanged.status,
    }),
  );
  const liveStatus = live.data ?? {};

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setForm(draft);
    setPage({});
  };
  const field = (name: keyof Form) => ({
    value: draft[name],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [name]: event.target.value }),
    "data-testid": `filter-${name}`,
  });

  return (
    <section>
      <h1>Payments</h1>
      <form className="filters" onSubmit={apply} data-testid="filter-bar">
        <label>
          Kind
          <select {...field("kind")}>
            <option value="">any</option>
            {KINDS.map((kind) => (
              <option key={kind}>{kind}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select {...field("status")}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Partner
          <select {...field("partner")}>
            <option value="">any</option>
            {partners.data?.partners.nodes.map((partner) => (
              <option key={partner.id} value={partner.id}>
                {partner.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Created from
          <input type="date" {...field("from")} />
        </label>
        <label>
          to
          <input type="date" {...field("to")} />
        </label>
        <label>
          Amount from (minor units)
          <input inputMode="numeric" pattern="-?[0-9]*" {...field("minAmount")} />
        </label>
        <label>
          to
          <input inputMode="numeric" pattern="-?[0-9]*" {...field("maxAmount")} />
        </label>
        <label>
          Reference contains
          <input {...field("reference")} />
        </label>
        <button type="submit" data-testid="filter-apply">
          Apply
        </button>
        <button
          type="button"
          data-testid="filter-reset"
          onClick={() => {
            setDraft(EMPTY);
            setForm(EMPTY);
            setPage({});
          }}
        >
          Reset
        </button>
      </form>
      <div className="sorting">
        <label>
          Sort by
          <select
            value={sortField}
            data-testid="sort-field"
            onChange={(event) => {
              setSortField(event.target.value as PaymentSortField);
              setPage({});
            }}
          >
            {SORT_FIELDS.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <button
          type="button"
          data-testid="sort-direction"
          onClick={() => {
            setDirection(direction === "ASC" ? "DESC" : "ASC");
            setPage({});
          }}
        >
          {direction === "ASC" ? "ascending" : "descending"}
        </button>
        {connection && <span data-testid="total-count">{connection.totalCount} payments</span>}
        {live.error === undefined && ids.length > 0 && <span className="hint"> · live</span>}
      </div>
      <ErrorList error={result.error} />
      <LiveError error={live.error} />
      {result.fetching && !connection && <p>Loading…</p>}
      {connection && (
        <table data-testid="payments-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Amount</th>
              <th>Reference</th>
              <th>Partner</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {connection.nodes.map((payment) => {
              const status = liveStatus[payment.id] ?? payment.status;
              return (
                <tr key={payment.id} data-testid="payment-row" data-payment-id={payment.id}>
                  <td>
                    <Link to={{ screen: "payment", id: payment.id }} testId="payment-link">
                      {payment.databaseId}
                    </Link>
                  </td>
                  <td>{payment.kind}</td>
                  <td>
                    <StatusBadge status={status} live={payment.id in liveStatus} />
                  </td>
                  <td className="number">{payment.amount.formatted}</td>
                  <td>{payment.reference}</td>
                  <td>
                    {payment.partner && (
                      <Link to={{ screen: "portfolio", partnerId: payment.partner.id }}>{payment.partner.name}</Link>
                    )}
                  </td>
                  <td>{new Date(payment.createdAt).toLocaleString()}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {connection && (
        <div className="paging">
          <button
            type="button"
            data-testid="page-previous"
            // Paging forward, Relay may not say whether a previous page exists.
            disabled={!(connection.pageInfo.hasPreviousPage || page.after) || !connection.pageInfo.startCursor}
            onClick={() => setPage({ before: connection.pageInfo.startCursor ?? undefined })}
          >
            ← Previous
          </button>
          <button
            type="button"
            data-testid="page-next"
            disabled={!(connection.pageInfo.hasNextPage || page.before) || !connection.pageInfo.endCursor}
            onClick={() => setPage({ after: connection.pageInfo.endCursor ?? undefined })}
          >
            Next →
          </button>
        </div>
      )}
    </section>
  );
}
