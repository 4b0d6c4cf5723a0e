/** Monthly volume by currency as grouped SVG bars: one bar per currency in each month,
 * each currency on its own scale (amounts of different currencies never share an axis),
 * so a bar's height is its share of that currency's largest month. */
export interface MonthVolume {
  month: string;
  currency: string;
  amount: number; // major units
  formatted: string;
}

const COLOURS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2"];

export function VolumeChart({ data }: { data: MonthVolume[] }) {
  const months = [...new Set(data.map((item) => item.month))].sort();
  const currencies = [...new Set(data.map((item) => item.currency))].sort();
  if (months.length === 0) return <p data-testid="volume-chart-empty">No payments in this window.</p>;
  const peak = new Map<string, number>();
  for (const item of data) peak.set(item.currency, Math.max(peak.get(item.currency) ?? 0, item.amount));
  const height = 180;
  const groupWidth = Math.max(24, currencies.length * 14 + 10);
  const width = months.length * groupWidth + 40;
  const byKey = new Map(data.map((item) => [`${item.month}|${item.currency}`, item]));
  return (
    <figure className="chart" data-testid="volume-chart">
      <svg width={width} height={height + 40} role="img" aria-label="Monthly volume by currency">
        <line x1={30} y1={height} x2={width} y2={height} stroke="#999" />
        {months.map((month, m) => (
          <g key={month} transform={`translate(${30 + m * groupWidth}, 0)`}>
            {currencies.map((currency, c) => {
              const item = byKey.get(`${month}|${currency}`);
              if (!item) return null;
              const top = peak.get(currency) || 1;
              const barHeight = Math.max(1, (item.amount / top) * (height - 10));
              return (
                <rect
                  key={currency}
                  x={5 + c * 14}
                  y={height - barHeight}
                  width={12}
                  height={barHeight}
                  fill={COLOURS[c % COLOURS.length]}
                >
                  <title>{`${month} ${currency}: ${item.formatted}`}</title>
                </rect>
              );
            })}
            <text x={groupWidth / 2} y={height + 15} fontSize={10} textAnchor="middle">
              {month}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        {currencies.map((currency, c) => (
          <span key={currency} className="legend">
            <span className="swatch" style={{ background: COLOURS[c % COLOURS.length] }} /> {currency}
          </span>
        ))}
        <span className="hint"> (each currency on its own scale)</span>
      </figcaption>
    </figure>
  );
}
