"""How big a demo load may be, apart from db.demo so that `paygraph` can check its flags
without loading the models."""

# The most payments one load makes, in one transaction: the export and EXPLAIN
# benchmarks' size. 2,000,000 wrote 1.87 GB of PostgreSQL write-ahead log.
MAX_PAYMENTS = 1_000_000
