export function StatusBadge({ status, live = false }: { status: string; live?: boolean }) {
  return (
    <span
      className={`badge badge-${status.toLowerCase()}${live ? " badge-live" : ""}`}
      data-testid="status-badge"
      data-status={status}
      title={live ? "updated live" : undefined}
    >
      {status.replace(/_/g, " ").toLowerCase()}
    </span>
  );
}
