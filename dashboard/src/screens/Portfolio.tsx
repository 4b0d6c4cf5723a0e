import { useMemo, useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { ErrorList } from "../components/ErrorList";
import { navigate } from "../router";
import { VolumeChart, type MonthVolume } from "../components/VolumeChart";

const PortfolioQuery = graphql(`
  query DashboardPortfolio($id: ID!, $fromDate: DateTime, $toDate: DateTime) {
    partner(id: $id) {
      id
      name
      kind
      portfolio(fromDate: $fromDate, toDate: $toDate) {
        count
        volume {
          currency
          count
          volume {
            formatted
          }
          paidVolume {
            formatted
          }
          averageTicket {
            formatted
          }
        }
        statusMix {
          status
          count
          shareBasisPoints
        }
        exceptions {
          status
          count
        }
      }
      payments(fromDate: $fromDate, toDate: $toDate, pageSize: 1) {
        groupBy(by: [MONTH, CURRENCY], first: 200) {
          nodes {
            keys {
              month
              currency
            }
            sum {
              currency
              amount {
                amount
                precision
                formatted
              }
            }
          }
        }
      }
    }
  }
`);

const PartnerChoicesQuery = graphql(`
  query DashboardPartnerChoices {
    partners(first: 200, sort: [{ field: NAME }]) {
      nodes {
        id
        name
        kind
      }
    }
  }
`);

export function Portfolio({ partnerId }: { partnerId: string | null }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [choices] = useQuery({ query: PartnerChoicesQuery });
  const variables = useMemo(
    () => ({
      id: partnerId ?? "",
      fromDate: from ? `${from}T00:00:00Z` : null,
      toDate: to ? `${to}T23:59:59.999999Z` : null,
    }),
    [partnerId, from, to],
  );
  const [result] = useQuery({ query: PortfolioQuery, variables, pause: !partnerId });
  const partner = result.data?.partner;
  const chart = useMemo<MonthVolume[]>(
    () =>
      (partner?.payments.groupBy.nodes ?? []).flatMap((group) =>
        group.sum
          .filter((measure) => measure.amount && group.keys.month)
          .map((measure) => ({
            month: group.keys.month ?? "",
            currency: measure.currency,
            amount: Number(measure.amount!.amount) / 10 ** measure.amount!.precision,
            formatted: measure.amount!.formatted,
          })),
      ),
    [partner],
  );
  return (
    <section>
      <h1>Partner portfolio</h1>
      <div className="filters">
        <label>
          Partner
          <select
            value={partnerId ?? ""}
            data-testid="portfolio-partner"
            onChange={(event) => navigate({ screen: "portfolio", partnerId: event.target.value || null })}
          >
            <option value="">choose…</option>
            {choices.data?.partners.nodes.map((choice) => (
              <option key={choice.id} value={choice.id}>
                {choice.name} ({choice.kind.toLowerCase()})
              </option>
            ))}
          </select>
        </label>
        <label>
          Created from
          <input type="date" value={from} onChange={(event) => setFrom(event.target.value)} data-testid="portfolio-from" />
        </label>
        <label>
          to
          <input type="date" value={to} onChange={(event) => setTo(event.target.value)} data-testid="portfolio-to" />
        </label>
      </div>
      <ErrorList error={choices.error} />
      <ErrorList error={result.error} />
      {partner && (
        <>
          <h2>{partner.name}</h2>
          <div className="tiles" data-testid="kpi-tiles">
            <div className="tile" data-testid="kpi-count">
              <span className="tile-label">Payments</span>
              <span className="tile-value">{partner.portfolio.count}</span>
            </div>
            {partner.portfolio.volume.map((volume) => (
              <div className="tile" key={volume.currency} data-testid="kpi-volume">
                <span className="tile-label">Volume {volume.currency}</span>
                <span className="tile-value">{volume.volume.formatted}</span>
                <span className="tile-note">
                  paid {volume.paidVolume?.formatted ?? "—"} · average {volume.averageTicket.formatted} · {volume.count}{" "}
                  payments
                </span>
              </div>
            ))}
            {partner.portfolio.exceptions.map((exception) => (
              <div className="tile tile-exception" key={exception.status} data-testid="kpi-exception">
                <span className="tile-label">{exception.status.toLowerCase()}</span>
                <span className="tile-value">{exception.count}</span>
              </div>
            ))}
          </div>
          <h3>Monthly volume by currency</h3>
          <VolumeChart data={chart} />
          <h3>Status mix</h3>
          <table data-testid="status-mix">
            <tbody>
              {partner.portfolio.statusMix.map((mix) => (
                <tr key={mix.status}>
                  <td>{mix.status}</td>
                  <td className="number">{mix.count}</td>
                  <td className="number">{(mix.shareBasisPoints / 100).toFixed(2)} %</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
