"""What an export (POST /exports/payments) costs in query-cost points, apart from
schema.cost so that `paygraph` can check the throttle settings against it without
loading graphql-core."""

EXPORT_COST = 2_000  # ten full pages of rows
